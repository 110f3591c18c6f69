#include "transport/channel.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <iterator>
#include <string>

#include "procxy/errors.h"
#include "transport/payload_pool.h"
#include "transport/unix_socket.h"

namespace procxy::detail {
namespace {

constexpr std::size_t kBufferBytes = 64 * 1024;

// A frame larger than the buffer gets payload memory as its bytes arrive: at
// first kFirstPartBytes, then kGrowth times as much each time it fills. So a
// header alone cannot make the reader allocate the 1 GiB it may claim: what
// is allocated stays within kGrowth times what was received. A 1 MiB frame
// pays one extra copy of its first 256 KiB.
constexpr std::size_t kFirstPartBytes = 256 * 1024;
constexpr std::size_t kGrowth = 8;

// A frame whose bytes have begun arriving and then stop coming for this long,
// counted while a reader waits for them, is a ProtocolError: a peer that
// sends half a frame and stalls without closing would otherwise hold the
// connection forever (every read waits for the rest). A live peer writes a
// frame in one go, so any wait near this long is a peer that is stuck or
// hostile; it is long enough for one descheduled for a while on a loaded
// machine.
constexpr auto kStalledFrameLimit = std::chrono::seconds(5);

bool is_socket(int fd) {
  struct stat status;
  return ::fstat(fd, &status) == 0 && S_ISSOCK(status.st_mode);
}

// writev() on a pipe whose reader may be gone: EPIPE, never SIGPIPE. The
// signal, blocked on this thread meanwhile, is taken back before it is
// unblocked (a pipe has no MSG_NOSIGNAL, and ignoring SIGPIPE in the whole
// process would reach the programs the object starts).
ssize_t write_without_sigpipe(int fd, const iovec* iov, int count) {
  sigset_t pipe_signal, before;
  ::sigemptyset(&pipe_signal);
  ::sigaddset(&pipe_signal, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_signal, &before);
  ssize_t n = ::writev(fd, iov, count);
  int error = errno;
  if (n < 0 && error == EPIPE) {
    timespec now{0, 0};
    while (::sigtimedwait(&pipe_signal, nullptr, &now) < 0 && errno == EINTR) {
    }
  }
  ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
  errno = error;
  return n;
}

}  // namespace

Channel::Channel(int fd)
    : fd_(fd),
      write_fd_(fd),
      read_socket_(true),
      write_socket_(true),
      shared_memory_(true),
      heard_(Clock::now().time_since_epoch().count()),
      buffer_(kBufferBytes / sizeof(capnp::word)),
      stall_limit_(kStalledFrameLimit) {}

Channel::Channel(Streams streams)
    : fd_(streams.read_fd),
      write_fd_(streams.write_fd),
      read_socket_(is_socket(streams.read_fd)),
      write_socket_(is_socket(streams.write_fd)),
      shared_memory_(false),
      heard_(Clock::now().time_since_epoch().count()),
      buffer_(kBufferBytes / sizeof(capnp::word)),
      stall_limit_(kStalledFrameLimit) {}

Channel::~Channel() {
  ::close(fd_);
  if (write_fd_ != fd_) ::close(write_fd_);
}

// On a pipe, a read ends when the peer closes its end.
void Channel::shutdown() { ::shutdown(fd_, SHUT_RDWR); }

std::size_t Channel::payload_bytes(kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>> segments) {
  std::size_t words = 0;
  for (const auto& segment : segments) words += segment.size();
  return detail::payload_bytes(segments.size(), words);
}

bool Channel::write(FrameKind kind, std::uint16_t ordinal, std::uint64_t id,
                    kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>> segments) {
  // The standard Cap'n Proto stream framing: segment count - 1, the size of
  // each segment in words, padding to a whole word.
  std::uint32_t table[64];
  std::vector<std::uint32_t> large_table;
  std::size_t table_words = segments.size() == 0 ? 0 : (segments.size() + 2) / 2;
  std::uint32_t* segment_table = table;
  if (table_words * 2 > 64) {
    large_table.resize(table_words * 2);
    segment_table = large_table.data();
  }
  std::size_t payload = table_words * sizeof(capnp::word);
  if (segments.size() > 0) {
    segment_table[0] = static_cast<std::uint32_t>(segments.size() - 1);
    for (std::size_t i = 0; i < segments.size(); ++i) {
      segment_table[i + 1] = static_cast<std::uint32_t>(segments[i].size());
      payload += segments[i].size() * sizeof(capnp::word);
    }
    if (segments.size() % 2 == 0) segment_table[segments.size() + 1] = 0;
  }
  FrameHeader header{static_cast<std::uint32_t>(payload), kind, ordinal, id};

  // Frames of up to 14 segments (all but the largest) need no allocation.
  iovec inline_iov[16];
  std::vector<iovec> large_iov;
  std::size_t count = 0;
  iovec* iov = inline_iov;
  if (segments.size() + 2 > std::size(inline_iov)) {
    large_iov.resize(segments.size() + 2);
    iov = large_iov.data();
  }
  iov[count++] = {&header, sizeof header};
  if (table_words) iov[count++] = {segment_table, table_words * sizeof(capnp::word)};
  for (const auto& segment : segments) {
    iov[count++] = {const_cast<capnp::word*>(segment.begin()), segment.size() * sizeof(capnp::word)};
  }

  MutexLock lock(write_mutex_);
  if (auto placement = shared_memory_ ? shared_out_.place(payload) : std::nullopt) {
    copy_to_shared(placement->data, iov + 1, count - 1);  // all but the header
    header.kind = static_cast<FrameKind>(static_cast<std::uint16_t>(kind) | kSharedPayloadBit);
    header.size = kSharedDescriptorBytes;
    iovec descriptor_iov[2] = {{&header, sizeof header}, {&placement->descriptor, sizeof placement->descriptor}};
    bool sent = send(descriptor_iov, 2, placement->fd);
    if (placement->fd >= 0) ::close(placement->fd);
    return sent;
  }
  return send(iov, count, -1);
}

void Channel::beat() {
  if (!write_mutex_.try_lock()) return;
  pollfd writable{write_fd_, POLLOUT, 0};
  if (::poll(&writable, 1, 0) == 1 && (writable.revents & POLLOUT)) {
    // Room for a header: a pipe says so with PIPE_BUF bytes free.
    FrameHeader header{0, FrameKind::kHeartbeat, 0, 0};
    iovec iov{&header, sizeof header};
    send(&iov, 1, -1);
  }
  write_mutex_.unlock();
}

bool Channel::write_last_words(FrameKind kind, std::uint64_t id) PROCXY_NO_THREAD_SAFETY_ANALYSIS {
  // The lock may be held by the thread this handler interrupted, which will
  // never let go: tried for a while only.
  bool locked = write_mutex_.try_lock();
  for (int tries = 0; !locked && tries < 100; ++tries) {
    timespec pause{0, 1'000'000};
    ::nanosleep(&pause, nullptr);
    locked = write_mutex_.try_lock();
  }
  if (!locked) return false;
  bool sent = false;
  // A pipe (a launcher's channel) with no room would block the handler.
  pollfd writable{write_fd_, POLLOUT, 0};
  bool room = write_socket_ || (::poll(&writable, 1, 0) == 1 && (writable.revents & POLLOUT));
  if (room && (!no_waiting_ || no_waiting_->queue.empty())) {
    FrameHeader header{0, kind, 0, id};
    ssize_t n = write_socket_ ? ::send(write_fd_, &header, sizeof header, MSG_DONTWAIT | MSG_NOSIGNAL)
                              : ::write(write_fd_, &header, sizeof header);
    sent = n == static_cast<ssize_t>(sizeof header);
  }
  write_mutex_.unlock();
  return sent;
}

void Channel::never_wait_on_writes(std::size_t limit, std::function<void()> queued,
                                   std::function<void(std::size_t)> overflowed) {
  MutexLock lock(write_mutex_);
  no_waiting_ = std::make_unique<NoWaiting>(limit, std::move(queued), std::move(overflowed));
}

bool Channel::flush() {
  MutexLock lock(write_mutex_);
  return !no_waiting_ || no_waiting_->queue.flush(write_fd_);
}

bool Channel::writes_waiting() {
  MutexLock lock(write_mutex_);
  return no_waiting_ && !no_waiting_->queue.empty();
}

// Sends all of `iov`, with `fd` (unless -1) attached to its first byte: at
// once, or (never_wait_on_writes) what the socket does not take goes into the
// queue.
bool Channel::send(iovec* iov, std::size_t count, int fd) {
  if (no_waiting_) {
    bool was_empty = no_waiting_->queue.empty();
    switch (no_waiting_->queue.send(write_fd_, iov, count, fd)) {
      case WriteQueue::Result::kSent:
        return true;
      case WriteQueue::Result::kQueued:
        if (was_empty) no_waiting_->queued();
        return true;
      case WriteQueue::Result::kOverflow:
        if (!no_waiting_->dropped) {
          no_waiting_->dropped = true;
          no_waiting_->overflowed(no_waiting_->queue.bytes());
          ::shutdown(fd_, SHUT_RDWR);
        }
        return false;
      case WriteQueue::Result::kFailed:
        return false;
    }
  }
  FdControl control;
  std::size_t index = 0;
  while (index < count) {
    std::size_t pieces = std::min<std::size_t>(count - index, IOV_MAX);
    ssize_t n;
    if (write_socket_) {
      msghdr message{};
      message.msg_iov = iov + index;
      message.msg_iovlen = pieces;
      if (fd >= 0) attach_fd(message, control, fd);
      n = ::sendmsg(write_fd_, &message, MSG_NOSIGNAL);
    } else {  // a launcher's pipe: never an fd
      n = write_without_sigpipe(write_fd_, iov + index, static_cast<int>(pieces));
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    fd = -1;  // it went with the first bytes
    auto left = static_cast<std::size_t>(n);
    while (index < count && left >= iov[index].iov_len) left -= iov[index++].iov_len;
    if (left) {
      iov[index].iov_base = static_cast<char*>(iov[index].iov_base) + left;
      iov[index].iov_len -= left;
    }
  }
  return true;
}

// Hands the file descriptors that came with received bytes to shared_in_.
void Channel::keep_fds(msghdr& message) {
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header; header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    std::size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(header) + i * sizeof fd, sizeof fd);
      shared_in_.add_fd(fd);
    }
  }
}

void Channel::check_limit(std::size_t payload, const char* where) const {
  if (payload <= payload_limit_) return;
  throw ProtocolError(std::string("procxy: ") + where + ": received a frame of " + std::to_string(payload) +
                      " bytes where at most " + std::to_string(payload_limit_) +
                      " may come; the connection is closed (is the other side a procxy program?)");
}

Channel::Take Channel::take_buffered(Frame& frame, const char* where) {
  auto* bytes = reinterpret_cast<char*>(buffer_.data());
  if (end_ - begin_ < kFrameHeaderSize) return Take::kNeedMore;
  FrameHeader header;
  std::memcpy(&header, bytes + begin_, sizeof header);
  validate(header, where);
  check_limit(header.size, where);
  std::size_t available = end_ - begin_ - kFrameHeaderSize;
  if (header.size > available && kFrameHeaderSize + header.size <= kBufferBytes) return Take::kNeedMore;

  auto kind = static_cast<std::uint16_t>(header.kind);
  if (kind & kSharedPayloadBit) {
    if (!shared_memory_) {
      throw ProtocolError(std::string("procxy: ") + where +
                          ": received a payload in shared memory on a launcher's channel, which carries none; "
                          "the connection is closed");
    }
    SharedDescriptor descriptor;
    std::memcpy(&descriptor, bytes + begin_ + kFrameHeaderSize, sizeof descriptor);
    check_limit(descriptor.bytes, where);
    begin_ += kFrameHeaderSize + sizeof descriptor;
    frame.header = header;
    frame.header.kind = static_cast<FrameKind>(kind & ~kSharedPayloadBit);
    frame.header.size = descriptor.bytes;
    frame.payload = shared_in_.take(descriptor, where);
    return Take::kFrame;
  }

  const char* from = bytes + begin_ + kFrameHeaderSize;
  if (header.size <= available) {
    frame.header = header;
    frame.payload = take_payload(header.size / sizeof(capnp::word));
    if (header.size > 0) std::memcpy(frame.payload.begin(), from, header.size);  // an empty payload has no memory
    begin_ += kFrameHeaderSize + header.size;
    return Take::kFrame;
  }
  // Larger than the buffer: the rest is received straight into the payload.
  std::size_t first = std::min<std::size_t>(header.size, kFirstPartBytes);
  partial_.emplace(Partial{header, take_payload(first / sizeof(capnp::word)), available});
  std::memcpy(partial_->payload.begin(), from, available);
  begin_ = end_ = 0;
  return Take::kNeedMore;
}

bool Channel::continue_partial(Clock::time_point deadline, int wake_fd, ReadStatus& status) {
  Partial& partial = *partial_;
  std::size_t capacity = partial.payload.size() * sizeof(capnp::word);
  if (partial.got == capacity) {
    std::size_t grown = std::min<std::size_t>(partial.header.size, capacity * kGrowth);
    kj::Array<capnp::word> payload = take_payload(grown / sizeof(capnp::word));
    std::memcpy(payload.begin(), partial.payload.begin(), partial.got);
    partial.payload = std::move(payload);
    capacity = grown;
  }
  char* at = reinterpret_cast<char*>(partial.payload.begin()) + partial.got;
  std::size_t got = receive(at, capacity - partial.got, true, deadline, wake_fd, status);
  partial.got += got;
  return got > 0;
}

bool Channel::fill(Clock::time_point deadline, int wake_fd, ReadStatus& status) {
  if (begin_ == end_) {
    begin_ = end_ = 0;
  } else if (begin_ > 0) {
    auto* bytes = reinterpret_cast<char*>(buffer_.data());
    std::memmove(bytes, bytes + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  std::size_t got =
      receive(reinterpret_cast<char*>(buffer_.data()) + end_, kBufferBytes - end_, false, deadline, wake_fd, status);
  end_ += got;
  return got > 0;
}

std::size_t Channel::receive(char* into, std::size_t room, bool whole, Clock::time_point deadline, int wake_fd,
                             ReadStatus& status) {
  // When only data or the deadline can end the wait, recv() blocks, with the
  // deadline as the socket's receive timeout, and no poll() goes first: one
  // system call less in the path of each call.
  bool blocking = wake_fd < 0 && read_socket_ && set_receive_timeout(deadline);
  // A blocking wait may poll first (transport/adaptive_poll.h): recv() that
  // does not wait, until data comes or the window ends.
  bool polling = blocking && poll_.should_poll();
  Clock::time_point poll_end = polling ? Clock::now() + AdaptivePoll::kWindow : Clock::time_point{};
  for (;;) {
    if (!blocking) {
      pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd, POLLIN, 0}};
      int timeout = -1;
      if (deadline != Clock::time_point::max()) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        timeout = left < 0 ? 0 : left > 1'000'000'000 ? 1'000'000'000 : static_cast<int>(left);
      }
      int n = ::poll(fds, wake_fd >= 0 ? 2 : 1, timeout);
      if (n < 0) {
        if (errno == EINTR) continue;
        status = ReadStatus::kClosed;
        return 0;
      }
      if (n == 0) {
        status = ReadStatus::kTimeout;
        return 0;
      }
      if (wake_fd >= 0 && (fds[1].revents & POLLIN) && !(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
        status = ReadStatus::kWoken;
        return 0;
      }
    }
    iovec iov{into, room};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kSharedSlots)];
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = shared_memory_ ? sizeof control : 0;
    // A blocking wait for a whole part lets the kernel gather it: one return
    // to user space instead of one per socket buffer's worth.
    int wait = !blocking || polling ? MSG_DONTWAIT : whole ? MSG_WAITALL : 0;
    // (poll() said a pipe has bytes: read() takes them without waiting.)
    ssize_t got = read_socket_ ? ::recvmsg(fd_, &message, MSG_CMSG_CLOEXEC | wait) : ::read(fd_, into, room);
    if (polling && got < 0 && errno == EAGAIN) {
      Clock::time_point now = Clock::now();
      if (now < poll_end && now < deadline) continue;
      polling = false;
      poll_.miss();
    }
    if (got > 0) {
      if (polling) poll_.hit();
      if (shared_memory_) {
        keep_fds(message);
      } else {  // a launcher's: its heartbeats watch this
        heard_.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
      }
      return static_cast<std::size_t>(got);
    }
    if (got < 0 && errno == EAGAIN && blocking && Clock::now() >= deadline) {
      status = ReadStatus::kTimeout;
      return 0;
    }
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) {
      if (blocking) blocking = set_receive_timeout(deadline);
      continue;
    }
    status = ReadStatus::kClosed;
    return 0;
  }
}

bool Channel::set_receive_timeout(Clock::time_point deadline) {
  std::chrono::microseconds wanted{0};  // none
  if (deadline != Clock::time_point::max()) {
    wanted = std::chrono::ceil<std::chrono::microseconds>(deadline - Clock::now());
    if (wanted <= std::chrono::microseconds(0)) return false;  // past: poll() says so at once
  }
  // The timeout set for the last wait serves when it ends at most 1 ms after
  // this deadline: call after call with the same timeout wants about the same
  // one, and a setsockopt() per call would cost what the missing poll() saves.
  bool close_enough =
      wanted.count() > 0 && receive_timeout_ >= wanted && receive_timeout_ - wanted <= std::chrono::milliseconds(1);
  if (receive_timeout_ == wanted || close_enough) return true;
  wanted = std::chrono::ceil<std::chrono::milliseconds>(wanted);
  timeval value{static_cast<time_t>(wanted.count() / 1'000'000), static_cast<suseconds_t>(wanted.count() % 1'000'000)};
  if (::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &value, sizeof value) != 0) return false;
  receive_timeout_ = wanted;
  return true;
}

Channel::ReadStatus Channel::read(Frame& frame, Clock::time_point deadline, int wake_fd, const char* where) {
  for (;;) {
    if (partial_ && partial_->got == partial_->header.size) {
      frame.header = partial_->header;
      frame.payload = std::move(partial_->payload);
      partial_.reset();
      stalled_ = {};
      return ReadStatus::kFrame;
    }
    if (!partial_ && take_buffered(frame, where) == Take::kFrame) {
      stalled_ = {};
      return ReadStatus::kFrame;
    }
    // Mid-frame, the wait also ends when the frame has stalled for too long.
    bool mid_frame = partial_ || end_ > begin_;
    Clock::time_point start = Clock::now();
    Clock::time_point stall_end = start + (stall_limit_ - stalled_);
    Clock::time_point until = mid_frame ? std::min(deadline, stall_end) : deadline;
    ReadStatus status;
    bool got = partial_ ? continue_partial(until, wake_fd, status) : fill(until, wake_fd, status);
    if (got) {
      stalled_ = {};
      continue;
    }
    if (mid_frame) stalled_ += std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
    if (mid_frame && status == ReadStatus::kTimeout && stalled_ >= stall_limit_) {
      throw ProtocolError(std::string("procxy: ") + where + ": received part of a frame, and its remaining bytes " +
                          "stopped coming for " +
                          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(stall_limit_).count()) +
                          " s; the connection is closed (is the other side stuck, or not a procxy program?)");
    }
    if (status == ReadStatus::kTimeout && Clock::now() < deadline) continue;  // only the stall's wait ended
    return status;
  }
}

}  // namespace procxy::detail
