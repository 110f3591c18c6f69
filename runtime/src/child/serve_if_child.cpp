// serve_if_child() lives alone in this file so that the linker pulls it (and
// the marker below) into a program only when the program calls it. The
// start-up check in process/spawn.cpp tests the marker to tell a child that
// will reach serve_if_child() from one that would run main() again.

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "child/server.h"
#include "process/spawn.h"
#include "procxy/procxy.h"

extern "C" const char procxy_serve_if_child_linked = 1;

namespace procxy {
namespace {

// A child dies with the parent that started it, even by SIGKILL: set here,
// before main(), rather than between fork and exec, because the parent starts
// it with posix_spawn. If the parent is already gone, the child goes now.
__attribute__((constructor)) void die_with_parent() {
  const char* parent = std::getenv(detail::kParentPidVariable);
  if (!parent) return;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != std::atoi(parent)) _exit(1);
  ::unsetenv(detail::kParentPidVariable);  // not inherited by what the object starts
}

}  // namespace

void serve_if_child(int, char**) {
  const char* fd = std::getenv(detail::kChildFdVariable);
  if (!fd) return;
  int channel = std::atoi(fd);
  // Not inherited by anything the object itself starts.
  ::unsetenv(detail::kChildFdVariable);
  // A child's stdout is a pipe or a file more often than a terminal, and
  // block-buffered there: what it printed before a crash would die in its
  // buffer. Line-buffered, each line is out once written. Before the object
  // exists, so that it applies to everything the object prints.
  if (!::isatty(STDOUT_FILENO)) {
    std::fflush(stdout);
    std::setvbuf(stdout, nullptr, _IOLBF, BUFSIZ);
  }
  detail::serve(channel);
}

}  // namespace procxy
