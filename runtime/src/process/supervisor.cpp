#include "process/supervisor.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "log.h"

namespace procxy::detail {
namespace {

constexpr idtype_t kPidfdIdType = static_cast<idtype_t>(3);  // P_PIDFD, Linux 5.4

ExitStatus status_of(const siginfo_t& info) {
  ExitStatus status;
  if (info.si_code == CLD_EXITED) {
    status.exit_code = info.si_status;
  } else if (info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED) {
    status.signal = info.si_status;
  }
  return status;
}

}  // namespace

ChildProcess::~ChildProcess() {
  if (pidfd_ >= 0) ::close(pidfd_);
}

bool ChildProcess::exited() const {
  MutexLock lock(mutex_);
  return status_.has_value();
}

ExitStatus ChildProcess::wait() const {
  MutexLock lock(mutex_);
  while (!status_) exited_cv_.wait(lock.native());
  return *status_;
}

bool ChildProcess::wait_for(std::chrono::milliseconds timeout) const {
  MutexLock lock(mutex_);
  // What wait_for(lock, timeout, predicate) does, with the predicate here,
  // where the analysis sees the mutex held.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!status_) {
    if (exited_cv_.wait_until(lock.native(), deadline) == std::cv_status::timeout) return status_.has_value();
  }
  return true;
}

void ChildProcess::signal(int signal) const {
  MutexLock lock(mutex_);
  if (!status_ && pidfd_ >= 0) ::syscall(SYS_pidfd_send_signal, pidfd_, signal, nullptr, 0);
}

void ChildProcess::on_exit(std::function<void(const ExitStatus&)> handler) {
  MutexLock lock(mutex_);
  if (!status_) {
    handlers_.push_back(std::move(handler));
    return;
  }
  ExitStatus status = *status_;
  lock.unlock();
  handler(status);
}

void ChildProcess::set_exited(const ExitStatus& status) {
  std::vector<std::function<void(const ExitStatus&)>> handlers;
  {
    MutexLock lock(mutex_);
    status_ = status;
    ::close(pidfd_);
    pidfd_ = -1;
    handlers.swap(handlers_);
  }
  exited_cv_.notify_all();
  for (auto& handler : handlers) handler(status);
}

Supervisor& Supervisor::instance() {
  // Leaked on purpose: the thread lives as long as the process, and children
  // may still be reaped while static destructors run.
  static Supervisor* supervisor = new Supervisor();
  return *supervisor;
}

Supervisor::Supervisor() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    throw std::runtime_error(std::string("procxy: parent: cannot start the child supervisor: ") + std::strerror(errno));
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = wake_.fd();
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_.fd(), &event);
  std::thread([this] { run(); }).detach();
}

std::shared_ptr<ChildProcess> Supervisor::watch(pid_t pid, int pidfd, bool own, std::shared_ptr<ChildOutput> output) {
  auto child = std::make_shared<ChildProcess>(pid, pidfd, own, std::move(output));
  {
    MutexLock lock(mutex_);
    children_.push_back(child);
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = pidfd;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, pidfd, &event);
  return child;
}

void Supervisor::kill_at(std::shared_ptr<ChildHandle> child, std::chrono::steady_clock::time_point deadline) {
  {
    MutexLock lock(mutex_);
    timers_.push_back({deadline, child});
  }
  wake_.wake();
}

std::vector<pid_t> Supervisor::live_children() const {
  std::vector<pid_t> pids;
  {
    MutexLock lock(mutex_);
    for (const auto& child : children_) {
      if (child->own()) pids.push_back(child->pid());
    }
  }
  std::sort(pids.begin(), pids.end());
  return pids;
}

void Supervisor::run() {
  for (;;) {
    int timeout = -1;
    auto now = std::chrono::steady_clock::now();
    std::vector<std::shared_ptr<ChildHandle>> to_kill;
    {
      MutexLock lock(mutex_);
      for (auto it = timers_.begin(); it != timers_.end();) {
        if (it->deadline <= now) {
          if (auto child = it->child.lock()) to_kill.push_back(child);
          it = timers_.erase(it);
        } else {
          auto left = std::chrono::ceil<std::chrono::milliseconds>(it->deadline - now).count();
          timeout = timeout < 0 ? static_cast<int>(left) : std::min(timeout, static_cast<int>(left));
          ++it;
        }
      }
    }
    for (const auto& child : to_kill) {
      log(LogCategory::kSpawn, "child %d did not exit in time; killing it", static_cast<int>(child->pid()));
      child->signal(SIGKILL);
    }

    epoll_event events[16];
    int n = ::epoll_wait(epoll_fd_, events, 16, timeout);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == wake_.fd()) {
        wake_.drain();
        continue;
      }
      std::shared_ptr<ChildProcess> child;
      {
        MutexLock lock(mutex_);
        auto it = std::find_if(children_.begin(), children_.end(), [&](const auto& c) { return c->watched_fd_ == fd; });
        if (it == children_.end()) continue;
        child = *it;
        children_.erase(it);
      }
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
      siginfo_t info{};
      // Stays empty for a shared child, and if the application reaps children
      // itself (SIGCHLD ignored).
      ExitStatus status;
      if (child->own()) {
        int rc;
        do {
          rc = ::waitid(kPidfdIdType, static_cast<id_t>(fd), &info, WEXITED);
        } while (rc != 0 && errno == EINTR);
        if (rc == 0) status = status_of(info);
      }
      log(LogCategory::kSpawn, "child %d %s", static_cast<int>(child->pid()), status.to_string().c_str());
      if (child->output_) child->output_->drain();
      child->set_exited(status);
    }
  }
}

}  // namespace procxy::detail
