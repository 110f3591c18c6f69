#pragma once

// Writes that never wait for the peer. A shared child writes to many clients
// from the threads that serve any of them: the object's thread emits an event
// to every subscriber while it runs another client's call. One client that
// stops reading (stopped with ^Z, or sending calls and never reading the
// replies) must not stall those threads, so each of its frames is sent with
// what the socket takes at once, and the rest waits here, in order, for the
// socket to take more (flush()). Waiting bytes are bounded: a client that
// lets more than the bound wait is not reading, and is dropped.

#include <cstddef>
#include <deque>
#include <vector>

struct iovec;

namespace procxy::detail {

class WriteQueue {
 public:
  explicit WriteQueue(std::size_t limit) : limit_(limit) {}
  ~WriteQueue();
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  enum class Result { kSent, kQueued, kOverflow, kFailed };

  // Sends the frame in `iov` on the socket `fd` (with `pass_fd`, unless -1,
  // attached to its first byte) as far as the socket takes it without
  // waiting, after what already waits; the rest is copied here. kOverflow:
  // the bytes waiting before this frame exceeded the limit, and nothing was
  // kept. A single frame of any size is accepted into an empty queue.
  Result send(int fd, iovec* iov, std::size_t count, int pass_fd);

  // Sends what waits, as far as the socket takes it without waiting. False
  // when the socket failed.
  bool flush(int fd);

  bool empty() const { return chunks_.empty(); }
  std::size_t bytes() const { return bytes_; }
  std::size_t limit() const { return limit_; }

 private:
  struct Chunk {
    std::vector<char> bytes;
    std::size_t sent = 0;
    int fd = -1;  // owned; goes with the chunk's first byte
  };
  // Sends the front chunks; false when the socket failed.
  bool send_queued(int fd);

  const std::size_t limit_;
  std::deque<Chunk> chunks_;
  std::size_t bytes_ = 0;  // not yet sent, over all chunks
};

}  // namespace procxy::detail
