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
#include <utility>
#include <vector>

#include "mutex.h"
#include "process/child_handle.h"
#include "process/output.h"
#include "procxy/proxy.h"
#include "transport/wake_fd.h"

namespace procxy::detail {

// A child watched by the supervisor: exit handlers run on its thread.
class ChildProcess final : public ChildHandle {
 public:
  // `output` (may be null): what the output pump reads of the child, drained
  // on the supervisor's thread once the child has exited, before its exit
  // is known to anyone.
  ChildProcess(pid_t pid, int pidfd, bool own, std::shared_ptr<ChildOutput> output)
      : pid_(pid), watched_fd_(pidfd), own_(own), output_(std::move(output)), pidfd_(pidfd) {}
  ~ChildProcess() override;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const override { return pid_; }
  bool own() const override { return own_; }
  bool exited() const override PROCXY_EXCLUDES(mutex_);
  ExitStatus wait() const override PROCXY_EXCLUDES(mutex_);
  bool wait_for(std::chrono::milliseconds timeout) const override PROCXY_EXCLUDES(mutex_);
  void signal(int signal) const override PROCXY_EXCLUDES(mutex_);
  void on_exit(std::function<void(const ExitStatus&)> handler) override PROCXY_EXCLUDES(mutex_);
  std::string stderr_tail() const override { return output_ ? output_->tail() : std::string(); }

 private:
  friend class Supervisor;
  // From the supervisor's thread. Runs the handlers with the mutex released.
  void set_exited(const ExitStatus& status) PROCXY_EXCLUDES(mutex_);

  const pid_t pid_;
  // The pidfd as watch() got it, for the supervisor's thread to find this
  // child by the fd epoll reports. pidfd_ holds the same fd until
  // set_exited(), which runs only after the child left Supervisor::children_.
  const int watched_fd_;
  const bool own_;
  const std::shared_ptr<ChildOutput> output_;  // may be null
  // Taken after Connection::mutex_ (docs/internals.md, the lock order);
  // nothing else is taken while it is held.
  mutable Mutex mutex_;
  mutable std::condition_variable exited_cv_;
  int pidfd_ PROCXY_GUARDED_BY(mutex_);  // -1 once the child exited
  std::optional<ExitStatus> status_ PROCXY_GUARDED_BY(mutex_);
  std::vector<std::function<void(const ExitStatus&)>> handlers_ PROCXY_GUARDED_BY(mutex_);
};

class Supervisor {
 public:
  static Supervisor& instance();

  // Starts watching a freshly started child, or (own = false) a shared child
  // this process connected to. Takes ownership of the pidfd. `output` (may
  // be null) is drained when the child has exited, before anyone hears of
  // it: so that its output is in before a ChildExitedError or wait() returns.
  std::shared_ptr<ChildProcess> watch(pid_t pid, int pidfd, bool own = true,
                                      std::shared_ptr<ChildOutput> output = nullptr) PROCXY_EXCLUDES(mutex_);
  // SIGKILLs `child` at `deadline` unless it has exited by then.
  void kill_at(std::shared_ptr<ChildHandle> child, std::chrono::steady_clock::time_point deadline)
      PROCXY_EXCLUDES(mutex_);
  // Pids of this process's own children not yet reaped, ascending.
  std::vector<pid_t> live_children() const PROCXY_EXCLUDES(mutex_);

 private:
  Supervisor();
  void run() PROCXY_EXCLUDES(mutex_);

  struct Timer {
    std::chrono::steady_clock::time_point deadline;
    std::weak_ptr<ChildHandle> child;
  };

  int epoll_fd_;  // set by the constructor, before the thread starts
  WakeFd wake_{"parent"};
  // Taken after Connection::mutex_ (kill_at()); nothing else is taken while
  // it is held.
  mutable Mutex mutex_;
  std::vector<std::shared_ptr<ChildProcess>> children_ PROCXY_GUARDED_BY(mutex_);
  std::vector<Timer> timers_ PROCXY_GUARDED_BY(mutex_);
};

}  // namespace procxy::detail
