#pragma once

// A child process as the parent's side of a connection sees it. The
// supervisor's ChildProcess is the real one; tests give a connection a fake
// instead, and drive the other end of its channel themselves.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "procxy/proxy.h"

namespace procxy::detail {

class ChildHandle {
 public:
  virtual ~ChildHandle() = default;

  virtual pid_t pid() const = 0;
  // False for a shared child, which another process started.
  virtual bool own() const = 0;
  virtual bool exited() const = 0;
  // Blocks until the child has exited (and, when it is ours, been reaped).
  virtual ExitStatus wait() const = 0;
  // Blocks for at most `timeout`; true once the child has exited.
  virtual bool wait_for(std::chrono::milliseconds timeout) const = 0;
  // Sends `signal` unless the child has exited.
  virtual void signal(int signal) const = 0;
  // Runs `handler` once with the exit status: at once, on the calling
  // thread, if the child has already exited; else later, on another thread,
  // and never from inside signal() or wait() (so never under a lock their
  // caller holds). Must not block long.
  virtual void on_exit(std::function<void(const ExitStatus&)> handler) = 0;
  // The last lines the process wrote on stderr, when the parent reads it (a
  // launcher's: its own errors, such as ssh's, and the child's last lines);
  // empty otherwise.
  virtual std::string stderr_tail() const { return {}; }
};

}  // namespace procxy::detail
