#include "transport/write_queue.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "transport/unix_socket.h"

namespace procxy::detail {
namespace {

// Sends as much of `iov` as the socket takes without waiting, `pass_fd`
// (unless -1) with the first byte. Returns the bytes sent, or -1 when the
// socket failed.
ssize_t send_now(int fd, const iovec* iov, std::size_t count, int pass_fd) {
  msghdr message{};
  message.msg_iov = const_cast<iovec*>(iov);
  message.msg_iovlen = std::min<std::size_t>(count, IOV_MAX);
  FdControl control;
  if (pass_fd >= 0) attach_fd(message, control, pass_fd);
  for (;;) {
    ssize_t n = ::sendmsg(fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    return -1;
  }
}

}  // namespace

WriteQueue::~WriteQueue() {
  for (const Chunk& chunk : chunks_) {
    if (chunk.fd >= 0) ::close(chunk.fd);
  }
}

WriteQueue::Result WriteQueue::send(int fd, iovec* iov, std::size_t count, int pass_fd) {
  if (bytes_ > limit_) return Result::kOverflow;
  if (!send_queued(fd)) return Result::kFailed;
  std::size_t skip = 0;  // bytes of this frame the socket took
  if (chunks_.empty()) {
    ssize_t n = send_now(fd, iov, count, pass_fd);
    if (n < 0) return Result::kFailed;
    skip = static_cast<std::size_t>(n);
    if (n > 0) pass_fd = -1;  // it went with the first byte
  }
  Chunk chunk;
  for (std::size_t i = 0; i < count; ++i) {
    const char* base = static_cast<const char*>(iov[i].iov_base);
    std::size_t length = iov[i].iov_len;
    std::size_t from = std::min(skip, length);
    skip -= from;
    chunk.bytes.insert(chunk.bytes.end(), base + from, base + length);
  }
  if (chunk.bytes.empty()) return Result::kSent;
  if (pass_fd >= 0) {
    chunk.fd = ::dup(pass_fd);  // the caller closes its own once this returns
    if (chunk.fd < 0) return Result::kFailed;
  }
  bytes_ += chunk.bytes.size();
  chunks_.push_back(std::move(chunk));
  return Result::kQueued;
}

bool WriteQueue::flush(int fd) { return send_queued(fd); }

bool WriteQueue::send_queued(int fd) {
  while (!chunks_.empty()) {
    Chunk& chunk = chunks_.front();
    iovec rest{chunk.bytes.data() + chunk.sent, chunk.bytes.size() - chunk.sent};
    ssize_t n = send_now(fd, &rest, 1, chunk.sent == 0 ? chunk.fd : -1);
    if (n < 0) return false;
    if (n == 0) return true;  // the socket is full: later
    if (chunk.fd >= 0) {
      ::close(chunk.fd);
      chunk.fd = -1;
    }
    chunk.sent += static_cast<std::size_t>(n);
    bytes_ -= static_cast<std::size_t>(n);
    if (chunk.sent == chunk.bytes.size()) chunks_.pop_front();
  }
  return true;
}

}  // namespace procxy::detail
