#pragma once

// The parent's side of a connection to one child: calls (request ids, the
// pending table, timeouts, the one retry loop, cancellation), query
// coalescing and caching, restarts through the injected start function, the
// child's lifecycle, and failing every pending call when the child dies.
//
// Callers read for themselves (parent/reader.h): one waiting caller at a
// time holds the reader role, reads replies and hands each to its caller; a
// helper thread takes the role only while asynchronous calls are pending or
// events were subscribed and no caller holds it. Events go to the EventHub,
// which also holds back results that arrive while earlier events are still
// being delivered.
//
// Over a launcher with heartbeats (Options::heartbeat), someone always reads
// (the helper when no caller does): whoever holds the reader role sends the
// heartbeats that are due and holds the link lost when nothing came for
// kHeartbeatsMissed of them.

#include <capnp/message.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "mutex.h"
#include "parent/call_target.h"
#include "parent/coalesce.h"
#include "parent/events.h"
#include "parent/link.h"
#include "parent/owner.h"
#include "parent/reader.h"
#include "parent/requests.h"
#include "parent/restart_budget.h"
#include "procxy/detail/generated_support.h"
#include "transport/channel.h"
#include "transport/wake_fd.h"

namespace procxy::detail {

// The attempt of a call: a query is sent up to 1 + Options::retries times.
struct Attempt {
  int number = 1;
  int of = 1;
};

class Connection final : public CallTarget, public std::enable_shared_from_this<Connection> {
 public:
  using Clock = std::chrono::steady_clock;

  // `link` is the child `start` started from `recipe`; a restart calls
  // `start` again.
  Connection(ChildRecipe recipe, StartFunction start, Link link);
  // Call start() once the connection is owned by a shared_ptr; one from
  // create() is not deleted in a process forked from its owner.
  void start();
  static std::shared_ptr<Connection> create(ChildRecipe recipe, StartFunction start, Link link);
  // The process the connection belongs to (parent/owner.h).
  const ProcessOwner& owner() const override { return owner_; }
  // Asks the child to exit, and kills it if it has not within a second.
  ~Connection();

  // Queries (PROCXY_QUERY, PROCXY_CACHE) identical to one in flight join it
  // unless coalescing is off; PROCXY_CACHE results are served from the cache
  // while fresh.
  Words call(const MethodInfo& method, capnp::MessageBuilder& params, const CallOptions& options) override;
  void call_async(const MethodInfo& method, capnp::MessageBuilder& params, const CallOptions& options,
                  Completion done) override;

  // A reply of the child proved malformed as it was decoded: as for a
  // malformed frame, later calls fail with `error`, and a private child is
  // killed (a shared child's connection is closed).
  void reject(const std::exception_ptr& error) override PROCXY_EXCLUDES(mutex_);

  pid_t pid() const;
  pid_t remote_pid() const;
  bool alive() const;
  void terminate(std::chrono::milliseconds grace);
  void kill();
  ExitStatus wait() const;

  const std::shared_ptr<EventHub>& events() const { return events_; }
  // Adds an event listener; from now on replies are read even when no call
  // is in flight. Returns the listener id. On a shared child's connection,
  // returns once the child confirmed the subscription; throws TimeoutError
  // (and adds nothing) when it did not within Options::timeout.
  std::uint64_t subscribe(EventListener listener, bool once);
  // Runs `handler` on the delivery thread each time the child exits (at once
  // if it already has). Returns the listener id.
  std::uint64_t on_exit(std::function<void(const ExitStatus&)> handler);

 private:
  // How a call is made: from the method, the proxy's options and the call's.
  struct Plan {
    bool coalesce = false;  // may join (and be joined by) an identical query
    bool cached = false;    // PROCXY_CACHE and not forced fresh
    std::string key;
    std::chrono::milliseconds timeout{0};           // per attempt; zero: none
    const char* timeout_from = "Options::timeout";  // which option set it, for the TimeoutError
  };
  enum class Read { kProgress, kTimeout, kClosed, kLost };  // kLost: a launcher's link went silent
  using Segments = kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>>;

  // Whether a query that failed with `error` on `attempt` is sent again;
  // if so, `attempt` is the next one. The one rule of retries, for
  // synchronous and asynchronous calls.
  static bool retry(const MethodInfo& method, Attempt& attempt, const std::exception_ptr& error, bool restart);
  Attempt first_attempt(const MethodInfo& method) const;
  // A plan with only the time limit of `options` set: every call's starting point.
  Plan timed(const CallOptions& options) const;
  static Clock::time_point deadline_for(const Plan& plan);
  Plan plan(const MethodInfo& method, capnp::MessageBuilder& params, const CallOptions& options) const;
  std::optional<Words> cached_result(const MethodInfo& method, const Plan& plan) PROCXY_EXCLUDES(mutex_);
  Words call_once(const MethodInfo& method, capnp::MessageBuilder& params, const CallOptions& options, const Plan& plan,
                  Attempt attempt) PROCXY_EXCLUDES(mutex_);
  void call_async_attempt(const MethodInfo& method, std::shared_ptr<capnp::MessageBuilder> params,
                          const CallOptions& options, Plan plan, Completion done, Attempt attempt)
      PROCXY_EXCLUDES(mutex_);
  // Adds `caller` to the in-flight request of the same query (plan.coalesce),
  // or registers and writes a new request: a frame of `kind` carrying
  // `segments`. Returns the request id and sets `deadline` to the request's.
  // Throws (leaving `caller` untouched) when the call cannot be sent.
  std::uint64_t enlist(const MethodInfo& method, FrameKind kind, Segments segments, const Plan& plan, Caller& caller,
                       Clock::time_point& deadline, Attempt attempt) PROCXY_EXCLUDES(mutex_);
  // Waits for request `id` as a blocked caller, taking the reader role when
  // nobody holds it; returns its result or throws its error. `stoppable`:
  // the caller's stop token may cancel the wait.
  Words await(Waiter& waiter, std::uint64_t id, const MethodInfo& method, bool stoppable) PROCXY_EXCLUDES(mutex_);
  // Sends a Subscribe that the (shared) child confirms, and waits for it.
  void confirm_subscription(const EventInfo& event) PROCXY_EXCLUDES(mutex_);
  // The link a call can go to, restarting the child first when it died and
  // Options::restart is set, as often as Options::restart_policy allows.
  // Throws when there is none.
  std::shared_ptr<Link> usable_link(MutexLock& lock, const MethodInfo& method) PROCXY_REQUIRES(mutex_);
  // After a reply of `method` was read: ends a private child over
  // Options::limits.max_rss (it is asked to exit).
  void check_resident_memory(const MethodInfo& method) PROCXY_EXCLUDES(mutex_);
  // Makes `link` the connection's. Releases the mutex for a while.
  void install(std::shared_ptr<Link> link) PROCXY_REQUIRES(mutex_);
  // Reads one frame (until `deadline` at most) and hands it to its owner.
  // `wakeable`: wake_ can end the wait early. Over a launcher, sends the
  // heartbeat that is due first, and reads no longer than the next one.
  Read read_and_deliver(const std::shared_ptr<Link>& link, Clock::time_point deadline, bool wakeable)
      PROCXY_EXCLUDES(mutex_);
  void deliver(Frame& frame, pid_t child) PROCXY_EXCLUDES(mutex_);
  // Sends a heartbeat on `link` if one is due. By the reader, or under
  // mutex_ while nobody holds the role.
  void beat_if_due(Link& link);
  // Hands a settled request's result or error to every caller, caching a
  // PROCXY_CACHE result. May release the mutex for a while.
  void settle(Request& request, Words result, std::exception_ptr error) PROCXY_REQUIRES(mutex_);
  // Hands a settled call to its caller, or queues it behind undelivered
  // events. May release the mutex for a while.
  void complete(Caller& caller, Words result, std::exception_ptr error) PROCXY_REQUIRES(mutex_);
  // Fails request `id` with TimeoutError for all its callers (no-op if it settled).
  void expire(std::uint64_t id) PROCXY_REQUIRES(mutex_);
  // Removes the caller `matches` picks from request `id`; the child is told
  // to stop the request when that was its last caller. Returns the caller,
  // if found.
  std::optional<Caller> leave(std::uint64_t id, const std::function<bool(const Caller&)>& matches)
      PROCXY_REQUIRES(mutex_);
  void cancel_async(const MethodInfo& method, std::uint64_t id, std::uint64_t tag) PROCXY_EXCLUDES(mutex_);
  // Asks the child to stop request `id`, whose callers all gave up. Releases
  // the mutex while writing.
  void cancel_in_child(std::uint64_t id) PROCXY_REQUIRES(mutex_);
  void release_role(Read result, const std::shared_ptr<Link>& link) PROCXY_REQUIRES(mutex_);
  // Wakes the next reader when nobody reads: a blocked caller, else the helper.
  void hand_on_role() PROCXY_REQUIRES(mutex_);
  void expire_async() PROCXY_REQUIRES(mutex_);
  Clock::time_point next_async_deadline() const PROCXY_EXCLUDES(mutex_);
  // Fails every pending request with the error `error_of` gives for its method.
  using ErrorOf = std::exception_ptr (Connection::*)(const MethodInfo& method) const;
  void fail_all(ErrorOf error_of) PROCXY_REQUIRES(mutex_);
  void on_child_exit(const std::shared_ptr<Link>& link, const ExitStatus& status) PROCXY_EXCLUDES(mutex_);
  // The errors of a call: the connection ended (how, it says), the proxy
  // was destroyed, the child sent garbage, the caller's stop token, a timeout.
  std::exception_ptr closed_error(const MethodInfo& method) const PROCXY_REQUIRES(mutex_);
  std::exception_ptr abandoned_error(const MethodInfo& method) const;
  std::exception_ptr gave_up_error(const MethodInfo& method) const PROCXY_REQUIRES(mutex_);
  // "child 4242", or over a launcher "child 4250 through 'ssh' (pid 4242)".
  std::string child_name() const PROCXY_REQUIRES(mutex_);
  // How a launcher's child ended, as closed_error() says it.
  std::string launcher_ending(const ExitStatus& status) const PROCXY_REQUIRES(mutex_);
  std::exception_ptr protocol_failure(const MethodInfo& method) const PROCXY_REQUIRES(mutex_);
  std::exception_ptr cancelled_error(const MethodInfo& method) const;
  std::exception_ptr timeout_error(const Request& request, Clock::duration waited) const PROCXY_REQUIRES(mutex_);
  // The helper reads while asynchronous calls are pending or events were subscribed.
  bool helper_has_work() const PROCXY_REQUIRES(mutex_);
  void start_helper();
  void helper_loop() PROCXY_EXCLUDES(mutex_);

  const ProcessOwner owner_;
  const ChildRecipe recipe_;
  const StartFunction start_;
  const std::shared_ptr<EventHub> events_ = std::make_shared<EventHub>();
  // Options::heartbeat over a launcher; zero: no heartbeats.
  const std::chrono::milliseconds heartbeat_;
  // When the reader sends the next heartbeat: the reader role's, which is
  // handed on under mutex_.
  Clock::time_point next_beat_{};
  WakeFd wake_{"parent"};  // interrupts the reader's poll (cancellation, shutdown)

  // Taken before the EventHub's and the Channel's: see docs/internals.md for
  // the lock order. It also guards the Waiters of blocked callers.
  mutable Mutex mutex_;
  std::shared_ptr<Link> link_ PROCXY_GUARDED_BY(mutex_);
  Requests requests_ PROCXY_GUARDED_BY(mutex_);
  ResultCache cache_ PROCXY_GUARDED_BY(mutex_);
  std::uint64_t next_tag_ PROCXY_GUARDED_BY(mutex_) = 0;
  ReaderRole reader_ PROCXY_GUARDED_BY(mutex_);
  // The state of link_: reset by a restart.
  bool channel_closed_ PROCXY_GUARDED_BY(mutex_) = false;
  std::optional<ExitStatus> exit_status_ PROCXY_GUARDED_BY(mutex_);
  std::optional<ExitStatus> exit_to_announce_
      PROCXY_GUARDED_BY(mutex_);  // to on_exit listeners, once the channel is drained
  // Event ordinals the child was asked to send. Sticky: a child keeps sending
  // an event after its listeners are gone, and the hub drops it.
  std::set<std::uint16_t> subscribed_ PROCXY_GUARDED_BY(mutex_);
  std::exception_ptr protocol_error_ PROCXY_GUARDED_BY(mutex_);
  bool terminated_ PROCXY_GUARDED_BY(mutex_) = false;
  bool restarting_ PROCXY_GUARDED_BY(mutex_) = false;
  RestartBudget restart_budget_ PROCXY_GUARDED_BY(mutex_);
  std::string last_restart_failure_ PROCXY_GUARDED_BY(mutex_);  // what() of the last restart that failed
  std::string gave_up_ PROCXY_GUARDED_BY(mutex_);  // how the last child died, once the restart policy gave up
  // Why link_'s child was asked to exit although it works (Options::limits.max_rss); reset by a restart.
  std::string over_limit_ PROCXY_GUARDED_BY(mutex_);
  // Why link_ is lost (its heartbeats stopped), once it is; reset by a restart.
  std::string link_lost_ PROCXY_GUARDED_BY(mutex_);
  // The syscall for which link_'s sandbox killed it, once it said so; reset by a restart.
  std::optional<std::uint64_t> sandboxed_ PROCXY_GUARDED_BY(mutex_);
  std::condition_variable restarted_cv_;

  std::once_flag helper_started_;
  std::thread helper_;
  bool stopping_ PROCXY_GUARDED_BY(mutex_) = false;
};

}  // namespace procxy::detail
