#pragma once

// Framed messages on a connected Unix stream socket. Writes are whole frames,
// atomic with respect to other writers. Reads are buffered, so one recv()
// usually yields a whole frame; they are not thread-safe: one reader at a time.
// A frame larger than the buffer is read straight into its payload, which
// grows as its bytes arrive; a read that ends before the frame is complete
// (deadline, wake fd) keeps what came, and the next read goes on from there.
// Payloads of kSharedMinBytes and more travel through shared memory
// (transport/shared_payloads.h), invisibly to the channel's users.
//
// A launcher's channel (Options::launcher) carries bytes only: no shared
// memory and no file descriptors, since its other end may be on another
// machine. It reads one fd and writes another (a launched child's stdin and
// stdout), each a socket or a pipe.

#include <capnp/common.h>
#include <kj/array.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "mutex.h"
#include "transport/adaptive_poll.h"
#include "transport/frame.h"
#include "transport/shared_payloads.h"
#include "transport/write_queue.h"

struct iovec;
struct msghdr;

namespace procxy::detail {

struct Frame {
  FrameHeader header;
  kj::Array<capnp::word> payload;
};

class Channel {
 public:
  using Clock = std::chrono::steady_clock;

  // A connected unix socket, both ways; takes ownership.
  explicit Channel(int fd);
  // A launcher's channel; takes ownership of both fds (which may be one).
  struct Streams {
    int read_fd;
    int write_fd;
  };
  explicit Channel(Streams streams);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  int fd() const { return fd_; }  // the one read

  // The payload size of a frame carrying these segments.
  static std::size_t payload_bytes(kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>> segments);

  // Writes one frame whose payload is the given Cap'n Proto segments (none:
  // empty payload); the payload must not exceed kMaxFrameSize (check with
  // payload_bytes first). Returns false when the peer is gone. Thread-safe.
  bool write(FrameKind kind, std::uint16_t ordinal, std::uint64_t id,
             kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>> segments = {}) PROCXY_EXCLUDES(write_mutex_);

  // A launcher's channel: sends a Heartbeat frame, unless that would wait:
  // while another frame is being written (the peer hears that one), or
  // while the peer has not taken what came before (it is busy, or the link
  // stalled, and one more would not help). Thread-safe.
  void beat() PROCXY_EXCLUDES(write_mutex_);

  // A SIGSYS handler's: sends one header-only frame unless that would wait
  // (the write lock stays taken for 100 ms, the peer is not reading, or
  // queued bytes are still to go first). Never allocates. True when sent.
  bool write_last_words(FrameKind kind, std::uint64_t id) PROCXY_EXCLUDES(write_mutex_);

  // From now on writes never wait for the peer (transport/write_queue.h):
  // what the socket does not take at once waits, up to `limit` bytes, and
  // `queued` is called (under the write lock: it must only signal) when bytes
  // start waiting, for someone to flush() once the socket takes more. A peer
  // that lets more than `limit` bytes wait is not reading: `overflowed` is
  // called with the bytes waiting, the socket is shut down, and write()
  // returns false. For one thread, before any write.
  void never_wait_on_writes(std::size_t limit, std::function<void()> queued,
                            std::function<void(std::size_t)> overflowed) PROCXY_EXCLUDES(write_mutex_);
  // Sends what waits, as far as the socket takes it now. False when the peer
  // is gone.
  bool flush() PROCXY_EXCLUDES(write_mutex_);
  bool writes_waiting() PROCXY_EXCLUDES(write_mutex_);

  // Frames with a larger payload are refused (ProtocolError) from now on;
  // kMaxFrameSize at first. A shared child lowers it until it knows who the
  // peer is, so that a stranger cannot make it allocate much.
  void limit_payload(std::size_t bytes) { payload_limit_ = bytes; }

  // A frame whose bytes stop coming for `limit` (kStalledFrameLimit at
  // first) is a ProtocolError: a launcher's link may pause for longer than
  // a socket between two processes. For the reader, before it reads.
  void allow_stalls_of(std::chrono::milliseconds limit) { stall_limit_ = limit; }

  // A launcher's channel: when bytes last arrived (or the channel was made),
  // for the link's heartbeats. Callable from any thread.
  Clock::time_point last_heard() const {
    return Clock::time_point(Clock::duration(heard_.load(std::memory_order_relaxed)));
  }

  enum class ReadStatus { kFrame, kTimeout, kWoken, kClosed };

  // Reads the next frame into `frame`. Waits until `deadline` at most, and
  // returns kWoken early when `wake_fd` (an eventfd, or -1) becomes readable.
  // Without a wake fd the wait is one blocking recv() (cheaper than poll()
  // and then recv()), with the deadline as the socket's receive timeout,
  // which may first poll the socket for a few microseconds
  // (transport/adaptive_poll.h).
  // kClosed: the peer closed the connection or the socket failed. Throws
  // ProtocolError (naming `where`) for an invalid frame. A frame whose bytes
  // stop coming does not hold the reader past `deadline` or a wake-up, and
  // when they have not come for a few seconds of waiting (kStalledFrameLimit)
  // the read throws ProtocolError.
  ReadStatus read(Frame& frame, Clock::time_point deadline, int wake_fd, const char* where);

  // Makes pending and later reads on this end return kClosed.
  void shutdown();

 private:
  // A frame too large for the buffer, while its bytes arrive.
  struct Partial {
    FrameHeader header;
    kj::Array<capnp::word> payload;  // grows up to header.size bytes
    std::size_t got = 0;             // bytes received
  };

  // kNeedMore: the buffer holds no whole frame (partial_ may have begun).
  enum class Take { kFrame, kNeedMore };
  Take take_buffered(Frame& frame, const char* where);
  // Throws ProtocolError for a payload above payload_limit_.
  void check_limit(std::size_t payload, const char* where) const;
  // Receives more of partial_, growing its payload first when it is full.
  bool continue_partial(Clock::time_point deadline, int wake_fd, ReadStatus& status);
  bool fill(Clock::time_point deadline, int wake_fd, ReadStatus& status);
  // Waits (as read() says) and receives up to `room` bytes into `into`;
  // `whole`: a blocking wait waits for all of them. Returns the bytes
  // received, or 0 with `status` saying why none.
  std::size_t receive(char* into, std::size_t room, bool whole, Clock::time_point deadline, int wake_fd,
                      ReadStatus& status);
  // Under write_mutex_: the frame's bytes go out together.
  bool send(iovec* iov, std::size_t count, int fd) PROCXY_REQUIRES(write_mutex_);
  bool set_receive_timeout(Clock::time_point deadline);
  void keep_fds(msghdr& message);

  int fd_;                         // read, and written unless write_fd_ says otherwise
  int write_fd_;                   // fd_, or a launched child's stdout
  const bool read_socket_;         // fd_ is a socket (else receive() uses read())
  const bool write_socket_;        // write_fd_ is a socket (else send() uses writev())
  const bool shared_memory_;       // large payloads and fds may travel (not on a launcher's channel)
  std::atomic<Clock::rep> heard_;  // last_heard()
  // The sending side: write() holds it for a whole frame. Taken last
  // (after Connection::mutex_); nothing else is taken while it is held.
  Mutex write_mutex_;
  SharedPayloadSender shared_out_ PROCXY_GUARDED_BY(write_mutex_);
  struct NoWaiting {
    NoWaiting(std::size_t limit, std::function<void()> queued, std::function<void(std::size_t)> overflowed)
        : queue(limit), queued(std::move(queued)), overflowed(std::move(overflowed)) {}
    WriteQueue queue;
    std::function<void()> queued;
    std::function<void(std::size_t)> overflowed;
    bool dropped = false;  // overflowed was called
  };
  std::unique_ptr<NoWaiting> no_waiting_ PROCXY_GUARDED_BY(write_mutex_);  // none: writes wait
  // The receiving side, below, has no mutex: one reader at a time (the
  // parent's reader role, the child's reading thread).
  SharedPayloadReceiver shared_in_;               // the reader's
  std::vector<capnp::word> buffer_;               // word-aligned, so payloads can be copied as words
  std::size_t begin_ = 0;                         // bytes consumed
  std::size_t end_ = 0;                           // bytes filled
  std::optional<Partial> partial_;                // the frame being received past the buffer
  std::size_t payload_limit_ = kMaxFrameSize;     // the reader's
  std::chrono::microseconds stalled_{0};          // waited, mid-frame, since its last bytes came
  std::chrono::microseconds stall_limit_;         // allow_stalls_of()
  std::chrono::microseconds receive_timeout_{0};  // SO_RCVTIMEO as last set; 0: none
  AdaptivePoll poll_;                             // the reader's
};

}  // namespace procxy::detail
