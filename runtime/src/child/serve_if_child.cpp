// serve_if_child() lives alone in this file so that the linker pulls it (and
// the marker below) into a program only when the program calls it. The
// start-up check in process/spawn.cpp tests the marker to tell a child that
// will reach serve_if_child() from one that would run main() again.

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "child/exit_codes.h"
#include "child/server.h"
#include "process/limits.h"
#include "process/spawn.h"
#include "procxy/procxy.h"
#include "transport/channel.h"
#include "wire/failure.h"

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

// Options::limits (memory, cpu, open_files), set before main() for the same
// reason (process/limits.h). A limit the child cannot set fails the start:
// the parent's spawn() throws a SpawnError with the reason, which the child
// sends as a start failure before it exits.
__attribute__((constructor)) void set_limits() {
  const char* limits = std::getenv(detail::kLimitsVariable);
  if (!limits) return;
  std::string failure = detail::apply_limits(limits);
  ::unsetenv(detail::kLimitsVariable);  // what the object starts inherits the limits themselves
  if (failure.empty()) return;
  if (const char* fd = std::getenv(detail::kChildFdVariable)) {
    capnp::MallocMessageBuilder message;
    detail::encode_failure(message, wire::Failure::Kind::LIMITS, failure);
    detail::Channel(std::atoi(fd)).write(detail::FrameKind::kError, 0, 0, message.getSegmentsForOutput());
  }
  _exit(detail::kExitStartFailed);
}

}  // namespace

namespace {

// A child's stdout is a pipe or a file more often than a terminal, and
// block-buffered there: what it printed before a crash would die in its
// buffer. Line-buffered, each line is out once written. Before the object
// exists, so that it applies to everything the object prints.
void line_buffer_stdout() {
  if (::isatty(STDOUT_FILENO)) return;
  std::fflush(stdout);
  std::setvbuf(stdout, nullptr, _IOLBF, BUFSIZ);
}

// A child started through Options::launcher: its stdin and stdout are the
// channel. They move out of the way of the object's own reads and prints:
// stdin becomes /dev/null, stdout goes where stderr goes (the launcher
// brings both back to the parent).
[[noreturn]] void serve_on_stdio() {
  int read_fd = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
  int write_fd = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (read_fd < 0 || write_fd < 0 || null < 0 || ::dup2(null, STDIN_FILENO) < 0 ||
      ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    std::fprintf(stderr, "procxy: child %d: cannot move stdin and stdout aside for the channel: %s\n",
                 static_cast<int>(::getpid()), std::strerror(errno));
    _exit(detail::kExitStartFailed);
  }
  ::close(null);
  line_buffer_stdout();
  detail::serve_launched({read_fd, write_fd});
}

}  // namespace

void serve_if_child(int argc, char** argv) {
  if (argc >= 2 && argv && argv[1] && std::strcmp(argv[1], detail::kLaunchedArgument) == 0) serve_on_stdio();
  const char* fd = std::getenv(detail::kChildFdVariable);
  if (!fd) return;
  int channel = std::atoi(fd);
  // Not inherited by anything the object itself starts.
  ::unsetenv(detail::kChildFdVariable);
  line_buffer_stdout();
  detail::serve(channel);
}

}  // namespace procxy
