#include "stand_in.h"

#include <spawn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <stdexcept>

extern char** environ;

namespace wire_test {

std::shared_ptr<procxy::detail::ChildProcess> stand_in() {
  pid_t pid;
  char sleep[] = "sleep";
  char forever[] = "60";
  char* argv[] = {sleep, forever, nullptr};
  if (::posix_spawnp(&pid, "sleep", nullptr, nullptr, argv, environ) != 0) {
    throw std::runtime_error("cannot start the stand-in child (sleep)");
  }
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) throw std::runtime_error("pidfd_open of the stand-in child failed");
  return procxy::detail::Supervisor::instance().watch(pid, pidfd);
}

}  // namespace wire_test
