#pragma once

// A pool of private children behind one CallTarget (procxy::pool<T>(), SPEC
// §10): each call goes to the child with the fewest calls in flight, ties in
// turn. A worker thread replaces children that died (under the restart
// policy) or retired (over PoolOptions::max_calls or Options::limits.max_rss,
// once their calls are done), and re-sends the asynchronous queries a dead
// child was running.
//
// Completions and exit handlers run on a child's delivery thread, which must
// never destroy that child's Connection: they reach only the Shared state
// (the lock, the wake-up, the queue of re-sends) and their Slot, never the
// PoolCore, and a Slot's connection is reset only by the worker or the
// destructor.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mutex.h"
#include "parent/call_target.h"
#include "parent/connection.h"
#include "parent/link.h"
#include "parent/restart_budget.h"

namespace procxy::detail {

class PoolCore final : public CallTarget, public Listeners {
 public:
  // Starts options.size children from `recipe`; throws SpawnError when one
  // cannot be started (those already started end).
  PoolCore(const PoolOptions& options, ChildRecipe recipe);
  ~PoolCore();

  const ProcessOwner& owner() const override { return owner_; }
  // A query whose child died is sent to another child, up to Options::retries
  // times; every other error reaches the caller.
  Words call(const MethodInfo& method, capnp::MessageBuilder& params, const CallOptions& options) override;
  void call_async(const MethodInfo& method, capnp::MessageBuilder& params, const CallOptions& options,
                  Completion done) override;
  void reject(const std::exception_ptr& error) override;

  // Adds `listener` to every child, and to each replacement before it takes
  // calls. A once() listener runs for the first event of any child.
  std::uint64_t subscribe(EventListener listener, bool once);
  void remove(std::uint64_t id) override;
  bool active(std::uint64_t id) const override;

  int size() const { return size_; }
  std::vector<pid_t> pids() const;
  std::vector<std::shared_ptr<Connection>> connections() const;
  void terminate(std::chrono::milliseconds grace);
  void kill();

 private:
  // One child and what the pool counts of it. Guarded by Shared::mutex.
  struct Slot {
    std::shared_ptr<Connection> connection;
    pid_t pid = 0;
    int in_flight = 0;
    std::uint64_t calls = 0;           // calls sent to it, for PoolOptions::max_calls
    bool dead = false;                 // its child exited
    bool retiring = false;             // takes no new calls; replaced, and ends once its calls are done
    bool replacement_failed = false;   // starting its replacement failed: the next try is a restart too
    bool counted = false;              // its death was charged to the restart budget
    std::optional<ExitStatus> status;  // how its child ended
  };
  // An asynchronous call, kept whole for a re-send.
  struct AsyncCall {
    const MethodInfo* method = nullptr;
    std::shared_ptr<capnp::MessageBuilder> params;
    CallOptions options;
    Completion done;
    int attempt = 0;
  };
  struct Shared {
    Shared(std::optional<std::uint64_t> max_rss) : max_rss(max_rss) {}
    const std::optional<std::uint64_t> max_rss;
    Mutex mutex;
    // A slot died, retired, finished its calls or was replaced; a re-send was queued.
    std::condition_variable changed;
    std::deque<AsyncCall> resends PROCXY_GUARDED_BY(mutex);
    // Children to end, on the reaper thread: ending one joins its delivery
    // thread, whose listener may be waiting for the worker.
    std::deque<std::shared_ptr<Connection>> to_end PROCXY_GUARDED_BY(mutex);
    bool stopping PROCXY_GUARDED_BY(mutex) = false;
  };
  struct Listener {
    EventListener listener;
    bool once = false;
    std::shared_ptr<std::atomic<bool>> fired;     // a once() listener began to run on some child
    std::shared_ptr<std::atomic<bool>> finished;  // and returned
    std::vector<std::pair<std::weak_ptr<Connection>, std::uint64_t>> added;  // its id on each child
  };

  // Starts the child of slot `index`, with no listeners yet (throws
  // SpawnError); with PoolOptions::launchers, through the one for `index`,
  // so that a replacement goes where the child it replaces went.
  std::shared_ptr<Slot> start_slot(std::size_t index);
  // Adds `listener` to the child of `slot`.
  static void add_to(Listener& listener, const Slot& slot);
  static void remove_from_children(Listener& listener);
  // The slot the next call goes to, its count of calls in flight raised.
  // `wait`: blocks until a child can take it (throwing TimeoutError after
  // Options::timeout), or until the caller's stop token fires (throwing
  // CancelledError); else returns nothing when none can now.
  std::shared_ptr<Slot> pick(const MethodInfo& method, const CallOptions& options, bool wait);
  // After a call on `slot` returned `error` (null: it succeeded, and the
  // child's resident memory is checked against Options::limits.max_rss).
  static void finish(Shared& shared, Slot& slot, const std::exception_ptr& error);
  // Sends `call` to a child, or queues it for the worker when none can take
  // it now: an asynchronous call never waits for a child.
  void send_async(AsyncCall call);
  void work();
  void reap();
  // Charges the restart budget for a child that died after it was replaced
  // (retiring); false once the policy gives up.
  bool charge(const Slot& slot) PROCXY_REQUIRES(shared_->mutex);
  // Replaces slots_[index]; releases the mutex while the child starts.
  void replace(MutexLock& lock, std::size_t index) PROCXY_REQUIRES(shared_->mutex);
  std::optional<std::size_t> slot_to_replace() const PROCXY_REQUIRES(shared_->mutex);
  std::exception_ptr ended_error(const MethodInfo& method) const PROCXY_REQUIRES(shared_->mutex);
  void end(const std::function<void(Connection&)>& how);

  const ProcessOwner owner_;
  const ChildRecipe recipe_;  // of each child: private, no dedup, no restart, max_rss checked here
  const std::vector<std::vector<std::string>> launchers_;  // PoolOptions::launchers
  const int size_;
  const std::uint64_t max_calls_;
  const int retries_;
  const std::shared_ptr<Shared> shared_;

  std::vector<std::shared_ptr<Slot>> slots_ PROCXY_GUARDED_BY(shared_->mutex);    // size_ of them, in turn
  std::vector<std::shared_ptr<Slot>> leaving_ PROCXY_GUARDED_BY(shared_->mutex);  // replaced, calls still running
  std::size_t next_ PROCXY_GUARDED_BY(shared_->mutex) = 0;                        // where the turn starts
  RestartBudget budget_ PROCXY_GUARDED_BY(shared_->mutex);
  std::string last_failure_ PROCXY_GUARDED_BY(shared_->mutex);  // of the last replacement that did not start
  std::string gave_up_ PROCXY_GUARDED_BY(shared_->mutex);       // set once the restart policy gave up
  bool terminated_ PROCXY_GUARDED_BY(shared_->mutex) = false;
  bool replacing_ PROCXY_GUARDED_BY(shared_->mutex) = false;  // a replacement is starting, the mutex released

  // Taken before Shared::mutex, and held while a replacement gets the
  // listeners, so that every child has each listener exactly once.
  mutable Mutex listeners_mutex_;
  std::map<std::uint64_t, Listener> listeners_ PROCXY_GUARDED_BY(listeners_mutex_);
  std::uint64_t next_listener_ PROCXY_GUARDED_BY(listeners_mutex_) = 0;

  std::thread worker_;
  std::thread reaper_;
};

}  // namespace procxy::detail
