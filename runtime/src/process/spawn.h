#pragma once

// Starting a child process: re-executing this program (or Options::executable)
// with the channel on fd 3, a clean set of file descriptors, default signal
// handling, and death with its parent.

#include <sys/types.h>

#include <memory>
#include <string>

#include "process/supervisor.h"
#include "procxy/options.h"

namespace procxy::detail {

// The environment variable that tells a process it is a procxy child, and on
// which fd its channel is.
inline constexpr const char* kChildFdVariable = "PROCXY_CHILD_FD";
inline constexpr int kChildChannelFd = 3;
// Set for a child that must die with its parent: the parent's pid. The child
// sets its parent-death signal before main() and exits if that parent is gone.
inline constexpr const char* kParentPidVariable = "PROCXY_PARENT_PID";
// A shared child holds the start lock on this fd until it listens.
inline constexpr int kSharedLockFd = 5;
// With Options::launcher, the first argument after the executable: the child
// serves on its stdin and stdout (no environment variable crosses ssh).
inline constexpr const char* kLaunchedArgument = "--procxy-child=stdio";

struct StartedProcess {
  std::shared_ptr<ChildProcess> process;  // with a launcher, the launcher's process
  int channel_fd;                         // the parent's end of the socket pair
  std::string executable;
};

// Starts a child as `options` say: `executable args...` with the channel on
// kChildChannelFd, or with Options::launcher, `launcher... executable
// kLaunchedArgument args...` with the channel on the launcher's stdin and
// stdout and its stderr read by the parent (process/output.h). Throws
// SpawnError when the executable (or the launcher) cannot be run (then no
// child remains). `class_name` names the child in its output lines
// (Options::output prefix()).
StartedProcess start_process(const Options& options, const std::string& class_name);

// Starts a shared child (attach()): detached from this process and its
// session, so it outlives it; not killed when this process dies; stdin on
// /dev/null, stdout and stderr on `log_fd`; `lock_fd` (the start lock) on
// kSharedLockFd. Its process is not this one's to reap.
StartedProcess start_detached_process(const Options& options, int lock_fd, int log_fd);

}  // namespace procxy::detail
