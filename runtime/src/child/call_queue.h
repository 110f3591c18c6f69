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

#include "transport/channel.h"

namespace procxy::detail {

class CallQueue {
 public:
  // A call running on some thread. Lives on that thread's stack.
  struct Running {
    std::uint64_t id = 0;
    bool cancelled = false;
    std::optional<std::stop_source> stop;  // made when the call asks for its token
  };

  // The reading side.
  void push(Frame&& frame);
  // Drops the queued call `id`, or stops it if it runs; ignores a call that
  // has finished.
  void cancel(std::uint64_t id);
  // Makes wait_next() return false from now on.
  void close();

  // The running side. Blocks until a call is queued (true) or close() (false);
  // the call is then running on this thread until finish().
  bool wait_next(Frame& frame, Running& running);
  // Takes a queued call if there is one, without blocking.
  bool try_next(Frame& frame, Running& running);
  // `frame`, read by this thread, runs on it until finish().
  void begin(const Frame& frame, Running& running);
  void finish();

  // The stop token of the call running on this thread, if any.
  static std::optional<std::stop_token> current_token();

 private:
  void begin_locked(std::uint64_t id, Running& running);

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Frame> queued_;
  std::vector<Running*> running_;
  bool closed_ = false;
};

}  // namespace procxy::detail
