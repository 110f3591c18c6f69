#include "child/call_queue.h"

#include <algorithm>

namespace procxy::detail {
namespace {

// The call running on this thread, and the mutex of the queue it came from.
// Both pointers are this thread's own (set by begin_locked(), cleared by
// finish()), so they need no lock. What t_running points at is shared with
// cancel() on the reading thread, under *t_queue_mutex, which
// current_token() takes through the pointer. The analysis cannot check
// that: clang accepts no pt_guarded_by on a thread_local (only on members
// and globals), and Running's fields cannot name the mutex (call_queue.h).
// It does check that current_token() releases what it took.
thread_local Mutex* t_queue_mutex = nullptr;
thread_local CallQueue::Running* t_running = nullptr;

std::size_t bytes_of(const Frame& frame) { return frame.payload.size() * sizeof(capnp::word); }

}  // namespace

void CallQueue::push(Frame&& frame) {
  MutexLock lock(mutex_);
  queued_bytes_ += bytes_of(frame);
  queued_.push_back(std::move(frame));
  ready_.notify_one();
}

bool CallQueue::has_room() const {
  MutexLock lock(mutex_);
  return queued_.size() < kMaxQueued && queued_bytes_ < kMaxQueuedBytes;
}

void CallQueue::cancel(std::uint64_t id) {
  std::optional<std::stop_source> stop;
  {
    MutexLock lock(mutex_);
    auto queued = std::find_if(queued_.begin(), queued_.end(), [id](const Frame& f) { return f.header.id == id; });
    if (queued != queued_.end()) {
      queued_bytes_ -= bytes_of(*queued);
      queued_.erase(queued);  // never runs; its callers are gone
      return;
    }
    auto running = std::find_if(running_.begin(), running_.end(), [id](const Running* r) { return r->id == id; });
    if (running == running_.end()) return;
    (*running)->cancelled = true;
    stop = (*running)->stop;
  }
  // Outside the lock: request_stop() runs the call's stop callbacks.
  if (stop) stop->request_stop();
}

void CallQueue::close() {
  MutexLock lock(mutex_);
  closed_ = true;
  ready_.notify_all();
}

bool CallQueue::wait_next(Frame& frame, Running& running) {
  MutexLock lock(mutex_);
  while (!closed_ && queued_.empty()) ready_.wait(lock.native());
  if (closed_) return false;  // calls still queued are abandoned with the parent's interest
  frame = std::move(queued_.front());
  queued_.pop_front();
  queued_bytes_ -= bytes_of(frame);
  begin_locked(frame.header.id, running);
  return true;
}

bool CallQueue::try_next(Frame& frame, Running& running) {
  MutexLock lock(mutex_);
  if (queued_.empty()) return false;
  frame = std::move(queued_.front());
  queued_.pop_front();
  queued_bytes_ -= bytes_of(frame);
  begin_locked(frame.header.id, running);
  return true;
}

void CallQueue::begin(const Frame& frame, Running& running) {
  MutexLock lock(mutex_);
  begin_locked(frame.header.id, running);
}

void CallQueue::begin_locked(std::uint64_t id, Running& running) {
  running = Running{id, false, std::nullopt};
  running_.push_back(&running);
  t_running = &running;
  t_queue_mutex = &mutex_;
}

void CallQueue::finish() {
  MutexLock lock(mutex_);
  running_.erase(std::find(running_.begin(), running_.end(), t_running));
  t_running = nullptr;
  t_queue_mutex = nullptr;
}

std::optional<std::stop_token> CallQueue::current_token() {
  if (!t_running) return std::nullopt;
  MutexLock lock(*t_queue_mutex);
  Running& running = *t_running;
  bool made = !running.stop;
  if (made) running.stop.emplace();
  std::stop_token token = running.stop->get_token();
  bool cancelled = running.cancelled;  // cancel() writes it under the mutex
  lock.unlock();
  if (made && cancelled) running.stop->request_stop();  // cancelled before it asked
  return token;
}

}  // namespace procxy::detail
