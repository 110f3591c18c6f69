#pragma once

// A class that uses up what Options::limits bounds: memory, CPU time and file
// descriptors (limits_test.cpp). Linked into the test program only.

#include <fcntl.h>
#include <procxy/annotate.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace e2e {

class PROCXY_REMOTE Hog {
 public:
  // Allocates `bytes` and touches every page; returns the last byte written.
  int allocate(std::uint64_t bytes) {
    auto block = std::unique_ptr<char[]>(new char[bytes]);
    // Escapes to the optimizer: an optimized build may otherwise drop the
    // allocation, which nothing else observes.
    asm volatile("" : : "g"(block.get()) : "memory");
    for (std::uint64_t i = 0; i < bytes; i += 4096) block[i] = static_cast<char>(i >> 12);
    return block[bytes - 1] = 1;
  }

  // Spins until the process is stopped.
  void spin() {
    volatile std::uint64_t counter = 0;
    for (;;) counter = counter + 1;
  }

  // Opens /dev/null `count` times; throws std::runtime_error with the errno
  // text at the first that fails. Closes what it opened either way.
  int open_files(int count) {
    std::vector<int> fds;
    std::string failure;
    for (int i = 0; i < count; ++i) {
      int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        failure = "open /dev/null #" + std::to_string(i + 1) + ": " + std::strerror(errno);
        break;
      }
      fds.push_back(fd);
    }
    for (int fd : fds) ::close(fd);
    if (!failure.empty()) throw std::runtime_error(failure);
    return count;
  }

  // The child's soft limit of `resource` (RLIMIT_*); -1 for unlimited.
  PROCXY_QUERY std::int64_t soft_limit(int resource) const {
    rlimit limit{};
    if (::getrlimit(resource, &limit) != 0) throw std::runtime_error(std::strerror(errno));
    return limit.rlim_cur == RLIM_INFINITY ? -1 : static_cast<std::int64_t>(limit.rlim_cur);
  }
  PROCXY_QUERY std::int64_t hard_limit(int resource) const {
    rlimit limit{};
    if (::getrlimit(resource, &limit) != 0) throw std::runtime_error(std::strerror(errno));
    return limit.rlim_max == RLIM_INFINITY ? -1 : static_cast<std::int64_t>(limit.rlim_max);
  }

  int ping() { return 1; }
};

}  // namespace e2e
