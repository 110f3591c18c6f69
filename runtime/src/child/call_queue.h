#pragma once

// The child's calls between the channel and the object: the calls read but
// not yet run, the calls running, and their cancellation. A Cancel frame
// drops a queued call, or requests stop on the token the running call gets
// from procxy::call_stop_token().

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <stop_token>
#include <vector>

#include "mutex.h"
#include "transport/channel.h"

namespace procxy::detail {

class CallQueue {
 public:
  // A call running on some thread. Lives on that thread's stack. `cancelled`
  // and `stop` are shared with cancel() under the queue's mutex_ (stop is
  // written only by the running thread, which may read it unlocked). The
  // analysis cannot say so: a guarded_by here cannot name the mutex_ of the
  // queue the call came from.
  struct Running {
    std::uint64_t id = 0;
    bool cancelled = false;
    std::optional<std::stop_source> stop;  // made when the call asks for its token
  };

  // The reading side.
  void push(Frame&& frame) PROCXY_EXCLUDES(mutex_);
  // False once kMaxQueued calls or kMaxQueuedBytes of them are queued: a
  // reader that need not take more (take_pending()) leaves the rest in the
  // socket, which then holds the parent back.
  bool has_room() const PROCXY_EXCLUDES(mutex_);
  // Drops the queued call `id`, or stops it if it runs; ignores a call that
  // has finished.
  void cancel(std::uint64_t id) PROCXY_EXCLUDES(mutex_);
  // Makes wait_next() return false from now on.
  void close() PROCXY_EXCLUDES(mutex_);

  // The running side. Blocks until a call is queued (true) or close() (false);
  // the call is then running on this thread until finish().
  bool wait_next(Frame& frame, Running& running) PROCXY_EXCLUDES(mutex_);
  // Takes a queued call if there is one, without blocking.
  bool try_next(Frame& frame, Running& running) PROCXY_EXCLUDES(mutex_);
  // `frame`, read by this thread, runs on it until finish().
  void begin(const Frame& frame, Running& running) PROCXY_EXCLUDES(mutex_);
  void finish() PROCXY_EXCLUDES(mutex_);

  // The stop token of the call running on this thread, if any.
  static std::optional<std::stop_token> current_token();

 private:
  void begin_locked(std::uint64_t id, Running& running) PROCXY_REQUIRES(mutex_);

  static constexpr std::size_t kMaxQueued = 1024;
  static constexpr std::size_t kMaxQueuedBytes = std::size_t{8} << 20;

  // Also taken by current_token(), through the running thread's pointer to
  // it (call_queue.cpp). Nothing else is taken while it is held.
  mutable Mutex mutex_;
  std::condition_variable ready_;
  std::deque<Frame> queued_ PROCXY_GUARDED_BY(mutex_);
  std::size_t queued_bytes_ PROCXY_GUARDED_BY(mutex_) = 0;
  std::vector<Running*> running_ PROCXY_GUARDED_BY(mutex_);
  bool closed_ PROCXY_GUARDED_BY(mutex_) = false;
};

}  // namespace procxy::detail
