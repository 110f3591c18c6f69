#include "parent/events.h"

#include <cstring>
#include <exception>
#include <string>
#include <typeinfo>

#include "demangle.h"
#include "log.h"
#include "procxy/errors.h"
#include "transport/payload_pool.h"

namespace procxy::detail {

EventQueueStats& event_queue_stats() {
  static EventQueueStats stats;
  return stats;
}

EventHub::~EventHub() { stop(); }

std::uint64_t EventHub::add(EventListener listener, bool once) {
  auto entry = std::make_shared<Listener>();
  entry->ordinal = listener.event->ordinal;
  entry->once = once;
  entry->event = std::move(listener);
  MutexLock lock(mutex_);
  entry->id = ++next_id_;
  listeners_.emplace(entry->id, entry);
  return entry->id;
}

std::uint64_t EventHub::add_exit(std::function<void(const ExitStatus&)> handler,
                                 const std::optional<ExitStatus>& exited) {
  auto entry = std::make_shared<Listener>();
  entry->on_exit = std::move(handler);
  std::uint64_t id;
  {
    MutexLock lock(mutex_);
    id = entry->id = ++next_id_;
    listeners_.emplace(id, entry);
  }
  if (exited) {
    Item item{Item::Kind::kExit};
    item.status = *exited;
    item.only = entry;
    push(std::move(item));
  }
  return id;
}

void EventHub::remove(std::uint64_t id) {
  std::shared_ptr<Listener> removed;  // released unlocked: its handler may own the last proxy handle
  MutexLock lock(mutex_);
  auto it = listeners_.find(id);
  if (it != listeners_.end()) {
    it->second->active = false;
    removed = std::move(it->second);
    listeners_.erase(it);
  }
  // A handler may remove itself (or another) while it runs: it cannot wait for itself.
  if (!on_delivery_thread()) {
    while (current_ == id) idle_cv_.wait(lock.native());
  }
  lock.unlock();
}

bool EventHub::active(std::uint64_t id) const {
  MutexLock lock(mutex_);
  return listeners_.count(id) > 0;
}

bool EventHub::wants(std::uint16_t ordinal) const {
  MutexLock lock(mutex_);
  for (const auto& [id, listener] : listeners_) {
    if (listener->ordinal == ordinal) return true;
  }
  return false;
}

void EventHub::push_event(std::uint16_t ordinal, Words payload, pid_t child) {
  Item item{Item::Kind::kEvent};
  item.ordinal = ordinal;
  if (payload.size() * sizeof(capnp::word) < kSmallestPayloadBytes) {
    // A received payload has a buffer of the pool's smallest size at least:
    // a queued 16-byte event would hold 4 KiB. It waits in its own size
    // instead, and the buffer goes back to the pool at once.
    item.payload = kj::heapArray<capnp::word>(payload.size());
    if (payload.size() > 0) std::memcpy(item.payload.begin(), payload.begin(), payload.size() * sizeof(capnp::word));
  } else {
    item.payload = std::move(payload);
  }
  item.child = child;
  push(std::move(item));
}

void EventHub::push_exit(const ExitStatus& status) {
  {
    MutexLock lock(mutex_);
    bool any = false;
    for (const auto& [id, listener] : listeners_) any = any || !listener->ordinal;
    if (!any) return;
  }
  Item item{Item::Kind::kExit};
  item.status = status;
  push(std::move(item));
}

bool EventHub::busy() const { return busy_.load(std::memory_order_acquire); }

void EventHub::post(std::function<void()> completion) {
  Item item{Item::Kind::kCompletion};
  item.completion = std::move(completion);
  push(std::move(item));
}

bool EventHub::on_delivery_thread() const { return std::this_thread::get_id() == thread_id_.load(); }

void EventHub::push(Item item) {
  MutexLock lock(mutex_);
  if (stopping_) {
    lock.unlock();
    // Too late for the thread: a completion runs here. The connection posts
    // with its mutex held, but never to a stopped hub: it stops the hub in
    // its destructor only, after failing every request, when no completion
    // can come any more and a retry finds the connection gone.
    if (item.kind == Item::Kind::kCompletion) item.completion();
    return;
  }
  if (item.kind == Item::Kind::kEvent) {
    ++queued_events_;
    queued_bytes_ += item.payload.size() * sizeof(capnp::word);
    EventQueueStats& stats = event_queue_stats();
    if (queued_events_ > stats.peak_queued.load()) stats.peak_queued.store(queued_events_);
    if (!full_.load() && (queued_events_ >= kMaxQueuedEvents || queued_bytes_ >= kMaxQueuedEventBytes)) {
      full_.store(true, std::memory_order_release);
      ++stats.pauses;
      log(LogCategory::kEvent, "%zu events (%zu bytes) queued from child %d: reading paused until listeners catch up",
          queued_events_, queued_bytes_, static_cast<int>(item.child));
    }
  }
  queue_.push_back(std::move(item));
  busy_.store(true, std::memory_order_release);
  if (!thread_.joinable()) {
    // The thread keeps the hub alive: a listener may drop the last proxy handle.
    thread_ = std::thread([self = shared_from_this()] { self->run(); });
    thread_id_ = thread_.get_id();
  }
  queue_cv_.notify_one();
}

void EventHub::stop() {
  MutexLock lock(mutex_);
  stopping_ = true;
  queue_cv_.notify_all();
  if (!thread_.joinable()) return;
  std::thread thread = std::move(thread_);
  bool self = on_delivery_thread();
  lock.unlock();
  if (self) {
    thread.detach();  // a listener let go of the last handle; the loop ends after it returns
  } else {
    thread.join();
  }
}

void EventHub::run() {
  MutexLock lock(mutex_);
  for (;;) {
    while (!stopping_ && queue_.empty()) queue_cv_.wait(lock.native());
    if (queue_.empty()) break;
    Item item = std::move(queue_.front());
    queue_.pop_front();
    if (dequeued(item) && !stopping_ && room_) {
      Unlocked unlocked(mutex_);
      room_();
    }
    if (stopping_ && item.kind != Item::Kind::kCompletion) {  // nobody is left to listen
      busy_.store(!queue_.empty(), std::memory_order_release);
      continue;
    }
    switch (item.kind) {
      case Item::Kind::kCompletion:
        lock.unlock();
        item.completion();
        item.completion = nullptr;  // its captures die without the lock held
        lock.lock();
        break;
      case Item::Kind::kEvent:
        deliver_event(item);
        break;
      case Item::Kind::kExit:
        deliver_exit(item);
        break;
    }
    busy_.store(!queue_.empty(), std::memory_order_release);
  }
  auto listeners = std::move(listeners_);
  lock.unlock();  // handlers die unlocked: one may own the last proxy handle
}

bool EventHub::dequeued(const Item& item) {
  if (item.kind != Item::Kind::kEvent) return false;
  --queued_events_;
  queued_bytes_ -= item.payload.size() * sizeof(capnp::word);
  if (!full_.load() || queued_events_ > kMaxQueuedEvents / 2 || queued_bytes_ > kMaxQueuedEventBytes / 2) return false;
  full_.store(false, std::memory_order_release);
  return true;
}

void EventHub::invoke(Listener& listener, const std::function<void()>& call, const char* what) {
  if (!listener.active) return;  // removed by an earlier listener of this item
  if (listener.once) {
    listener.active = false;
    listeners_.erase(listener.id);
  }
  current_ = listener.id;
  {
    Unlocked unlocked(mutex_);
    try {
      call();
    } catch (const std::exception& e) {
      log_always(LogCategory::kEvent, "a listener of %s threw %s: %s; delivering the next events", what,
                 demangle(typeid(e).name()).c_str(), e.what());
    } catch (...) {
      log_always(LogCategory::kEvent, "a listener of %s threw a non-std::exception; delivering the next events", what);
    }
  }
  current_ = 0;
  idle_cv_.notify_all();
}

void EventHub::deliver_event(Item& item) {
  std::vector<std::shared_ptr<Listener>> targets;
  for (const auto& [id, listener] : listeners_) {
    if (listener->ordinal == item.ordinal) targets.push_back(listener);
  }
  if (targets.empty()) return;
  const char* name = targets.front()->event.event->name;
  log(LogCategory::kEvent, "event %s from child %d: %zu listener(s)", name, static_cast<int>(item.child),
      targets.size());
  // One decoding reader for all listeners; each listener reads what it needs.
  Reply params(std::move(item.payload));
  std::exception_ptr malformed;
  for (const auto& listener : targets) {
    invoke(
        *listener,
        [&] {
          try {
            listener->event.deliver(params);
          } catch (const ProtocolError&) {
            if (!params.malformed()) throw;  // the listener's own, from a call it made
            malformed = std::current_exception();
          }
        },
        name);
    if (malformed) break;
  }
  if (malformed && malformed_) {
    // The child's message, not a listener, is at fault: the child cannot be
    // trusted with more (Connection::reject).
    Unlocked unlocked(mutex_);
    malformed_(malformed);
  }
  release(targets);
}

void EventHub::release(std::vector<std::shared_ptr<Listener>>& targets) {
  Unlocked unlocked(mutex_);
  targets.clear();
}

void EventHub::deliver_exit(Item& item) {
  std::vector<std::shared_ptr<Listener>> targets;
  if (item.only) {
    targets.push_back(item.only);
  } else {
    for (const auto& [id, listener] : listeners_) {
      if (!listener->ordinal) targets.push_back(listener);
    }
  }
  for (const auto& listener : targets) {
    invoke(
        *listener, [&] { listener->on_exit(item.status); }, "the child's exit");
  }
  item.only.reset();
  release(targets);
}

}  // namespace procxy::detail
