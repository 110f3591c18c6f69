#include "child/inline_loop.h"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>

#include "child/call_queue.h"
#include "child/calls.h"
#include "mutex.h"
#include "procxy/procxy.h"
#include "side.h"
#include "transport/wake_fd.h"

namespace procxy::detail {
namespace {

// Options::concurrency == 1: the reading thread runs each call itself, so a
// call costs no thread hop. While a call runs nobody reads the channel, until
// the call asks for its stop token: then the watcher reads for it, queueing
// the calls that arrive and applying cancellations, and hands the channel
// back when the call ends.
class Watcher {
 public:
  Watcher(Peer& peer, CallQueue& calls) : peer_(peer), calls_(calls) {}
  ~Watcher() {
    {
      MutexLock lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  // From the running call's thread: read the channel until disengage().
  void engage() PROCXY_EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    if (engaged_ || ended_) return;
    if (!thread_.joinable()) {                        // made on first use: most objects never ask
      wake_ = std::make_unique<WakeFd>(side_name());  // a failure is the call's
      thread_ = std::thread(&Watcher::run, this);
    }
    engaged_ = true;
    changed_.notify_all();
  }

  // From the serving thread, between calls: returns once the watcher has
  // stopped reading. False when it met the end of the conversation.
  bool disengage() PROCXY_EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    engaged_ = false;
    // Only a reading watcher is woken (and drains the eventfd after): a
    // wake-up left behind would end its next engagement at once.
    if (reading_) {
      wake_->wake();
      while (reading_) changed_.wait(lock.native());
    }
    return !ended_;
  }

 private:
  void run() PROCXY_EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    for (;;) {
      while (!stopping_ && !engaged_) changed_.wait(lock.native());
      if (stopping_) return;
      reading_ = true;
      lock.unlock();
      Frame frame;
      bool woken = false;
      bool more = true;
      while (more) {
        more = next_call(peer_, calls_, frame, wake_->fd(), &woken);
        if (more) calls_.push(std::move(frame));
        // A steady stream of frames never lets the wake-up through: look.
        if (more && !engaged()) {
          woken = true;
          more = false;
        }
      }
      wake_->drain();
      lock.lock();
      if (!woken) ended_ = true;  // Shutdown, or the parent is gone
      reading_ = false;
      engaged_ = false;
      changed_.notify_all();
    }
  }

  bool engaged() PROCXY_EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    return engaged_;
  }

  Peer& peer_;
  CallQueue& calls_;
  // Made under the mutex just before the thread starts, then only used
  // (run() reads it unlocked): not guarded.
  std::unique_ptr<WakeFd> wake_;
  // Taken by the serving thread (the running call's) and the watcher's
  // thread; nothing else is taken while it is held.
  Mutex mutex_;
  std::condition_variable changed_;
  bool engaged_ PROCXY_GUARDED_BY(mutex_) = false;
  bool reading_ PROCXY_GUARDED_BY(mutex_) = false;
  bool ended_ PROCXY_GUARDED_BY(mutex_) = false;
  bool stopping_ PROCXY_GUARDED_BY(mutex_) = false;
  std::thread thread_ PROCXY_GUARDED_BY(mutex_);  // (the destructor, unchecked, joins it unlocked)
};

std::atomic<Watcher*> g_watcher{nullptr};

}  // namespace

void serve_inline(Peer& parent, const ClassEntry& entry, void* object) {
  CallQueue calls;
  Watcher watcher(parent, calls);
  g_watcher.store(&watcher, std::memory_order_release);
  Frame frame;
  CallQueue::Running running;
  bool open = true;  // the parent may send more
  for (;;) {
    if (!calls.try_next(frame, running)) {  // the calls the watcher queued come first
      if (!open || !next_call(parent, calls, frame)) break;
      calls.begin(frame, running);
    }
    bool parent_there = run_call(parent.channel(), entry, object, frame);
    calls.finish();
    open = watcher.disengage() && open;
    if (!parent_there) break;
    // The Cancels that came while it ran, before the next call starts: a call
    // whose caller timed out or gave up behind this one never runs.
    if (open) open = take_pending(parent, calls);
  }
  g_watcher.store(nullptr, std::memory_order_release);
}

}  // namespace procxy::detail

std::stop_token procxy::call_stop_token() {
  std::optional<std::stop_token> token = detail::CallQueue::current_token();
  if (!token) return {};
  // One call at a time: someone must read the channel for this call's Cancel.
  if (detail::Watcher* watcher = detail::g_watcher.load(std::memory_order_acquire)) watcher->engage();
  return *token;
}
