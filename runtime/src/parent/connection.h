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

#include "parent/coalesce.h"
#include "parent/events.h"
#include "parent/link.h"
#include "parent/reader.h"
#include "parent/requests.h"
#include "procxy/detail/generated_support.h"
#include "transport/channel.h"
#include "transport/wake_fd.h"

namespace procxy::detail {

// The attempt of a call: a query is sent up to 1 + Options::retries times.
struct Attempt {
  int number = 1;
  int of = 1;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Clock = std::chrono::steady_clock;

  // `link` is the child `start` started from `recipe`; a restart calls
  // `start` again.
  Connection(ChildRecipe recipe, StartFunction start, Link link);
  // Call start() once the connection is owned by a shared_ptr.
  void start();
  // Asks the child to exit, and kills it if it has not within a second.
  ~Connection();

  // Queries (PROCXY_QUERY, PROCXY_CACHE) identical to one in flight join it
  // unless coalescing is off; PROCXY_CACHE results are served from the cache
  // while fresh.
  Words call(const MethodInfo& method, capnp::MessageBuilder& params, const CallOptions& options);
  void call_async(const MethodInfo& method, capnp::MessageBuilder& params, const CallOptions& options, Completion done);

  pid_t pid() const;
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
  };
  enum class Read { kProgress, kTimeout, kClosed };
  using Segments = kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>>;

  // Whether a query that failed with `error` on `attempt` is sent again;
  // if so, `attempt` is the next one. The one rule of retries, for
  // synchronous and asynchronous calls.
  static bool retry(const MethodInfo& method, Attempt& attempt, const std::exception_ptr& error, bool restart);
  Attempt first_attempt(const MethodInfo& method) const;
  Clock::time_point deadline_for(const CallOptions& options) const;
  Plan plan(const MethodInfo& method, capnp::MessageBuilder& params, const CallOptions& options) const;
  std::optional<Words> cached_result(const MethodInfo& method, const Plan& plan);
  Words call_once(const MethodInfo& method, capnp::MessageBuilder& params, const CallOptions& options, const Plan& plan,
                  Attempt attempt);
  void call_async_attempt(const MethodInfo& method, std::shared_ptr<capnp::MessageBuilder> params,
                          const CallOptions& options, Plan plan, Completion done, Attempt attempt);
  // Adds `caller` to the in-flight request of the same query (plan.coalesce),
  // or registers and writes a new request: a frame of `kind` carrying
  // `segments`. Returns the request id and sets `deadline` to the request's.
  // Throws (leaving `caller` untouched) when the call cannot be sent.
  std::uint64_t enlist(const MethodInfo& method, FrameKind kind, Segments segments, const Plan& plan, Caller& caller,
                       Clock::time_point& deadline, Attempt attempt);
  // Waits for request `id` as a blocked caller, taking the reader role when
  // nobody holds it; returns its result or throws its error. `stoppable`:
  // the caller's stop token may cancel the wait.
  Words await(Waiter& waiter, std::uint64_t id, const MethodInfo& method, bool stoppable);
  // Sends a Subscribe that the (shared) child confirms, and waits for it.
  void confirm_subscription(const EventInfo& event);
  // The link a call can go to, restarting the child first when it died and
  // Options::restart is set. Throws when there is none.
  std::shared_ptr<Link> usable_link(std::unique_lock<std::mutex>& lock, const MethodInfo& method);
  void install(std::unique_lock<std::mutex>& lock, std::shared_ptr<Link> link);
  // Reads one frame (until `deadline` at most) and hands it to its owner.
  // `wakeable`: wake_ can end the wait early.
  Read read_and_deliver(const std::shared_ptr<Link>& link, Clock::time_point deadline, bool wakeable);
  void deliver(Frame& frame, pid_t child);
  // Hands a settled request's result or error to every caller, caching a
  // PROCXY_CACHE result. May release the lock.
  void settle(std::unique_lock<std::mutex>& lock, Request& request, Words result, std::exception_ptr error);
  // Hands a settled call to its caller, or queues it behind undelivered events.
  void complete(std::unique_lock<std::mutex>& lock, Caller& caller, Words result, std::exception_ptr error);
  // Fails request `id` with TimeoutError for all its callers (no-op if it settled).
  void expire(std::unique_lock<std::mutex>& lock, std::uint64_t id);
  // Removes the caller `matches` picks from request `id`; the child is told
  // to stop the request when that was its last caller. Returns the caller,
  // if found.
  std::optional<Caller> leave(std::unique_lock<std::mutex>& lock, std::uint64_t id,
                              const std::function<bool(const Caller&)>& matches);
  void cancel_async(const MethodInfo& method, std::uint64_t id, std::uint64_t tag);
  // Asks the child to stop request `id`, whose callers all gave up. Releases
  // the lock while writing.
  void cancel_in_child(std::unique_lock<std::mutex>& lock, std::uint64_t id);
  void release_role(std::unique_lock<std::mutex>& lock, Read result, const std::shared_ptr<Link>& link);
  // Wakes the next reader when nobody reads: a blocked caller, else the helper.
  void hand_on_role();
  void expire_async(std::unique_lock<std::mutex>& lock);
  Clock::time_point next_async_deadline() const;
  void fail_all(std::unique_lock<std::mutex>& lock, const std::function<std::exception_ptr(const MethodInfo&)>& error);
  void on_child_exit(const std::shared_ptr<Link>& link, const ExitStatus& status);
  std::exception_ptr closed_error(const MethodInfo& method) const;
  std::exception_ptr timeout_error(const Request& request, Clock::duration waited) const;
  std::exception_ptr cancelled_error(const MethodInfo& method) const;
  // The helper reads while asynchronous calls are pending or events were subscribed.
  bool helper_has_work() const;
  void start_helper();
  void helper_loop();

  const ChildRecipe recipe_;
  const StartFunction start_;
  const std::shared_ptr<EventHub> events_ = std::make_shared<EventHub>();
  WakeFd wake_{"parent"};  // interrupts the reader's poll (cancellation, shutdown)

  mutable std::mutex mutex_;
  std::shared_ptr<Link> link_;
  Requests requests_;
  ResultCache cache_;
  std::uint64_t next_tag_ = 0;
  ReaderRole reader_;
  // The state of link_: reset by a restart.
  bool channel_closed_ = false;
  std::optional<ExitStatus> exit_status_;
  std::optional<ExitStatus> exit_to_announce_;
  // Event ordinals the child was asked to send. Sticky: a child keeps sending
  // an event after its listeners are gone, and the hub drops it.
  std::set<std::uint16_t> subscribed_;  // to on_exit listeners, once the channel is drained
  std::exception_ptr protocol_error_;
  bool terminated_ = false;
  bool restarting_ = false;
  std::condition_variable restarted_cv_;

  std::once_flag helper_started_;
  std::thread helper_;
  bool stopping_ = false;
};

}  // namespace procxy::detail
