#pragma once

// Supervision of child processes: one runtime thread waits on the pidfds of
// all children, reaps each the moment it exits (so none stays a zombie),
// records how it ended and tells whoever asked. Signals go through the pidfd,
// so a recycled pid can never be hit. A shared child (attach()) is watched
// too, though it is not ours to reap: its exit is seen, its status is not.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "process/child_handle.h"
#include "procxy/proxy.h"
#include "transport/wake_fd.h"

namespace procxy::detail {

// A child watched by the supervisor: exit handlers run on its thread.
class ChildProcess final : public ChildHandle {
 public:
  ChildProcess(pid_t pid, int pidfd, bool own) : pid_(pid), pidfd_(pidfd), own_(own) {}
  ~ChildProcess() override;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const override { return pid_; }
  bool own() const override { return own_; }
  bool exited() const override;
  ExitStatus wait() const override;
  bool wait_for(std::chrono::milliseconds timeout) const override;
  void signal(int signal) const override;
  void on_exit(std::function<void(const ExitStatus&)> handler) override;

 private:
  friend class Supervisor;
  void set_exited(const ExitStatus& status);

  const pid_t pid_;
  int pidfd_;
  const bool own_;
  mutable std::mutex mutex_;
  mutable std::condition_variable exited_cv_;
  std::optional<ExitStatus> status_;
  std::vector<std::function<void(const ExitStatus&)>> handlers_;
};

class Supervisor {
 public:
  static Supervisor& instance();

  // Starts watching a freshly started child, or (own = false) a shared child
  // this process connected to. Takes ownership of the pidfd.
  std::shared_ptr<ChildProcess> watch(pid_t pid, int pidfd, bool own = true);
  // SIGKILLs `child` at `deadline` unless it has exited by then.
  void kill_at(std::shared_ptr<ChildHandle> child, std::chrono::steady_clock::time_point deadline);
  // Pids of this process's own children not yet reaped, ascending.
  std::vector<pid_t> live_children() const;

 private:
  Supervisor();
  void run();

  struct Timer {
    std::chrono::steady_clock::time_point deadline;
    std::weak_ptr<ChildHandle> child;
  };

  int epoll_fd_;
  WakeFd wake_{"parent"};
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<ChildProcess>> children_;
  std::vector<Timer> timers_;
};

}  // namespace procxy::detail
