#include "transport/wake_fd.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "procxy/errors.h"

namespace procxy::detail {

WakeFd::WakeFd(const char* side) : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (fd_ < 0) {
    throw Error(std::string("procxy: ") + side + ": cannot create an eventfd: " + std::strerror(errno) +
                " (raise the limit of open files, RLIMIT_NOFILE, or close some)");
  }
}

WakeFd::~WakeFd() { ::close(fd_); }

void WakeFd::wake() {
  std::uint64_t one = 1;
  // Fails only when the counter is full: the waiter wakes anyway.
  [[maybe_unused]] ssize_t n = ::write(fd_, &one, sizeof one);
}

void WakeFd::drain() {
  std::uint64_t count;
  [[maybe_unused]] ssize_t n = ::read(fd_, &count, sizeof count);
}

}  // namespace procxy::detail
