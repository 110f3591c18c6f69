#pragma once

// The parent's delivery of what a child reports on its own: events and its
// exit. One runtime thread per connection runs the listeners, one at a time,
// in the order the child emitted. A call's result that arrives while earlier
// events are still queued or being delivered is queued behind them, so that a
// caller never sees a result before the events that preceded it.

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "mutex.h"
#include "parent/call_target.h"
#include "parent/owner.h"
#include "procxy/detail/generated_support.h"

namespace procxy::detail {

// The queue of events is bounded: a child that emits faster than the
// listeners run must be slowed down, not buffered without end. At the bound
// the readers stop reading the channel (full()), so the socket fills and the
// child's emit blocks in its write; they read again once the listeners have
// taken the queue down to half the bound (the room function). Half, so that
// a steady flood wakes a reader once per kMaxQueuedEvents / 2 events, not
// once per event.
// 1024 events: a listener that takes 1 ms holds the child up to a second
// behind; 8 MiB: what a few large events (up to 16 MiB each) may hold.
inline constexpr std::size_t kMaxQueuedEvents = 1024;
inline constexpr std::size_t kMaxQueuedEventBytes = std::size_t{8} << 20;

// What the bound did, over every hub of this process: for tests.
struct EventQueueStats {
  std::atomic<std::size_t> peak_queued{0};  // the most events one queue held at once
  std::atomic<std::size_t> pauses{0};       // times a full queue stopped the reading
};
PROCXY_EXPORT EventQueueStats& event_queue_stats();  // exported: the e2e tests read it

class EventHub final : public Listeners, public std::enable_shared_from_this<EventHub> {
 public:
  EventHub() = default;
  ~EventHub();
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // Listeners. Ids are never reused.
  std::uint64_t add(EventListener listener, bool once) PROCXY_EXCLUDES(mutex_);
  // `exited`: the child is already gone; the handler then runs at once (on
  // the delivery thread) with this status.
  std::uint64_t add_exit(std::function<void(const ExitStatus&)> handler, const std::optional<ExitStatus>& exited)
      PROCXY_EXCLUDES(mutex_);
  // After remove() returns, the listener is not running on another thread and
  // never runs again.
  void remove(std::uint64_t id) override PROCXY_EXCLUDES(mutex_);
  bool active(std::uint64_t id) const override PROCXY_EXCLUDES(mutex_);
  // The process the hub belongs to: its connection's (parent/owner.h).
  const ProcessOwner& owner() const override { return owner_; }

  // True when some listener waits for events of this ordinal; others are
  // dropped as they arrive.
  bool wants(std::uint16_t ordinal) const PROCXY_EXCLUDES(mutex_);
  void push_event(std::uint16_t ordinal, Words payload, pid_t child) PROCXY_EXCLUDES(mutex_);
  void push_exit(const ExitStatus& status) PROCXY_EXCLUDES(mutex_);
  // True while events are queued or being delivered: a result arriving now
  // must be posted behind them.
  bool busy() const;
  // Queues `completion` to run on the delivery thread.
  void post(std::function<void()> completion) PROCXY_EXCLUDES(mutex_);
  bool on_delivery_thread() const;

  // True while the queue is at its bound: nobody should read the channel.
  // Never while a listener waits for a call's reply (Waiting): that reply
  // must be read, or the listener, and so the queue, would wait for ever.
  bool full() const { return full_.load(std::memory_order_acquire) && listener_waits_.load() == 0; }
  // Runs on the delivery thread, with no lock held, when a full queue has
  // room again. Set once, before the first event.
  void on_room(std::function<void()> room) { room_ = std::move(room); }
  // Runs on the delivery thread, with no lock held, with the ProtocolError of
  // an event whose message proved malformed as a listener decoded it. Set
  // once, before the first event.
  void on_malformed(std::function<void(std::exception_ptr)> malformed) { malformed_ = std::move(malformed); }
  // For the duration of a caller's wait for a reply: on the delivery thread
  // (a listener calling the proxy), lifts the bound.
  class Waiting {
   public:
    explicit Waiting(EventHub& hub) : hub_(hub.on_delivery_thread() ? &hub : nullptr) {
      if (hub_) ++hub_->listener_waits_;
    }
    ~Waiting() {
      if (hub_) --hub_->listener_waits_;
    }
    Waiting(const Waiting&) = delete;
    Waiting& operator=(const Waiting&) = delete;

   private:
    EventHub* hub_;
  };

  // Drops the queued events, runs the queued completions and ends the
  // delivery thread (detaching it when called from a listener).
  void stop() PROCXY_EXCLUDES(mutex_);

 private:
  // `active` is read and written under the hub's mutex_ (remove(),
  // invoke()); the analysis cannot say so: a guarded_by on a member of this
  // struct cannot name a member of the EventHub that owns it.
  struct Listener {
    std::uint64_t id = 0;
    std::optional<std::uint16_t> ordinal;  // none: an exit listener
    bool once = false;
    bool active = true;
    EventListener event;
    std::function<void(const ExitStatus&)> on_exit;
  };
  struct Item {
    enum class Kind { kEvent, kCompletion, kExit };
    explicit Item(Kind k) : kind(k) {}
    Kind kind;
    std::uint16_t ordinal = 0;
    Words payload;
    pid_t child = 0;
    std::function<void()> completion;
    ExitStatus status;
    std::shared_ptr<Listener> only;  // kExit: just this listener (added after the exit)
  };

  void push(Item item) PROCXY_EXCLUDES(mutex_);
  // An event left the queue: true when that made room in a full one.
  bool dequeued(const Item& item) PROCXY_REQUIRES(mutex_);
  void run() PROCXY_EXCLUDES(mutex_);
  // Deliver `item` to its listeners. Release the mutex while a listener runs.
  void deliver_event(Item& item) PROCXY_REQUIRES(mutex_);
  void deliver_exit(Item& item) PROCXY_REQUIRES(mutex_);
  // Drops `targets` with the mutex released: a handler may own the last proxy
  // handle, whose destruction stops this hub.
  void release(std::vector<std::shared_ptr<Listener>>& targets) PROCXY_REQUIRES(mutex_);
  // Runs `call` with the mutex released, as listener `listener`.
  void invoke(Listener& listener, const std::function<void()>& call, const char* what) PROCXY_REQUIRES(mutex_);

  // Taken after Connection::mutex_ (docs/internals.md, the lock order);
  // nothing else is taken while it is held.
  const ProcessOwner owner_;
  mutable Mutex mutex_;
  std::condition_variable queue_cv_;
  std::condition_variable idle_cv_;  // current_ changed
  std::uint64_t next_id_ PROCXY_GUARDED_BY(mutex_) = 0;
  // By id: registration order.
  std::map<std::uint64_t, std::shared_ptr<Listener>> listeners_ PROCXY_GUARDED_BY(mutex_);
  std::deque<Item> queue_ PROCXY_GUARDED_BY(mutex_);
  // The queue is not empty or an item is being delivered. Written under the
  // mutex, read without it: every call asks (busy(), on_delivery_thread()).
  std::atomic<bool> busy_{false};
  std::uint64_t current_ PROCXY_GUARDED_BY(mutex_) = 0;  // the listener running now, 0: none
  bool stopping_ PROCXY_GUARDED_BY(mutex_) = false;
  std::thread thread_ PROCXY_GUARDED_BY(mutex_);
  // Set under the mutex when the thread starts, read without it (atomic).
  std::atomic<std::thread::id> thread_id_;
  std::size_t queued_events_ PROCXY_GUARDED_BY(mutex_) = 0;
  std::size_t queued_bytes_ PROCXY_GUARDED_BY(mutex_) = 0;
  // Written under the mutex, read without it by the readers (full()).
  std::atomic<bool> full_{false};
  std::atomic<int> listener_waits_{0};                 // Waiting scopes on the delivery thread
  std::function<void()> room_;                         // set before the thread starts, then only read by it
  std::function<void(std::exception_ptr)> malformed_;  // the same
};

}  // namespace procxy::detail
