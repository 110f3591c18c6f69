#include "process/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "log.h"
#include "procxy/errors.h"
#include "remote_error.h"
#include "transport/channel.h"

extern "C" {
// Defined only in serve_if_child.cpp, which the linker includes only in
// programs that call procxy::serve_if_child().
extern const char procxy_serve_if_child_linked __attribute__((weak));
}

namespace procxy::detail {
namespace {

// Runs before main() in every program that can spawn children. If this
// process was started by procxy but the program never calls serve_if_child(),
// running main() would start the application a second time: report the
// mistake to the parent instead and exit.
__attribute__((constructor)) void refuse_child_without_serve_if_child() {
  const char* fd = std::getenv(kChildFdVariable);
  if (!fd || &procxy_serve_if_child_linked != nullptr) return;
  char exe[4096] = "this program";
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) exe[n] = '\0';
  capnp::MallocMessageBuilder message;
  encode_failure(message, wire::Failure::Kind::MISSING_SERVE_IF_CHILD,
                 "procxy: child " + std::to_string(getpid()) + ": '" + exe +
                     "' never calls procxy::serve_if_child(argc, argv), so it cannot serve as a child (its "
                     "main() was not run); call it first thing in main(), or set Options::executable to an "
                     "agent built with procxy_add_agent()");
  Channel(std::atoi(fd)).write(FrameKind::kError, 0, 0, message.getSegmentsForOutput());
  _exit(127);
}

// All forks happen on this one long-lived thread: PR_SET_PDEATHSIG fires when
// the *thread* that forked a child exits, so forking from a short-lived
// caller thread would kill the child with it.
class Spawner {
 public:
  static Spawner& instance() {
    static Spawner* spawner = new Spawner();  // lives as long as the process
    return *spawner;
  }

  template <class Fn>
  auto run(Fn fn) -> decltype(fn()) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.emplace_back([&task] { task(); });
    }
    cv_.notify_one();
    return result.get();
  }

 private:
  Spawner() {
    std::thread([this] {
      for (;;) {
        std::function<void()> job;
        {
          std::unique_lock<std::mutex> lock(mutex_);
          cv_.wait(lock, [&] { return !queue_.empty(); });
          job = std::move(queue_.front());
          queue_.pop_front();
        }
        job();
      }
    }).detach();
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
};

// What the child writes to the error pipe when it cannot exec, and what the
// middle process of a detached start reports.
struct ExecFailure {
  int error;
  int stage;  // kStageChdir, kStageExec, or kStagePid (no failure: `pid` is the detached child)
  pid_t pid;
};
constexpr int kStageChdir = 0;
constexpr int kStageExec = 1;
constexpr int kStagePid = 2;

// The fds a child starts with besides its channel.
struct ChildFds {
  int channel;
  int error_pipe;
  int lock = -1;  // detached: the start lock, kept as kSharedLockFd
  int log = -1;   // detached: its stderr; stdin and stdout go to /dev/null
};

// Between fork and exec only async-signal-safe calls are allowed. `parent`:
// the process whose death kills the child; 0 for a detached child.
[[noreturn]] void exec_child(const ChildFds& fds, pid_t parent, const char* cwd, const char* path, char* const* argv,
                             char* const* envp) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &default_action, nullptr);

  if (parent != 0) {
    // Die with the parent, even by SIGKILL; and if it is already gone, go now.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
  } else {
    // Outlives whoever started it: no terminal, no output into a pipe that
    // someone waits to see closed.
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    dup2(null, 0);
    dup2(null, 1);
    dup2(fds.log >= 0 ? fds.log : null, 2);
  }

  // Move the fds out of the way first, then into place: fd 3 the channel
  // (inherited across exec), fd 4 the error pipe (closed by exec), fd 5 the
  // start lock (inherited).
  int channel_high = fcntl(fds.channel, F_DUPFD_CLOEXEC, 64);
  int error_high = fcntl(fds.error_pipe, F_DUPFD_CLOEXEC, 64);
  int lock_high = fds.lock >= 0 ? fcntl(fds.lock, F_DUPFD_CLOEXEC, 64) : -1;
  dup2(channel_high, kChildChannelFd);
  dup3(error_high, 4, O_CLOEXEC);
  if (lock_high >= 0) dup2(lock_high, kSharedLockFd);
  syscall(SYS_close_range, lock_high >= 0 ? kSharedLockFd + 1 : 5, ~0U, 0);

  ExecFailure failure{0, kStageChdir, getpid()};
  if (cwd && chdir(cwd) != 0) {
    failure.error = errno;
  } else {
    execve(path, argv, envp);
    failure = {errno, kStageExec, getpid()};
  }
  [[maybe_unused]] ssize_t n = write(4, &failure, sizeof failure);
  _exit(127);
}

std::vector<std::string> child_environment(const Options& options) {
  std::vector<std::string> env;
  if (options.inherit_env) {
    for (char** entry = environ; *entry; ++entry) {
      std::string item = *entry;
      std::string name = item.substr(0, item.find('='));
      if (name == kChildFdVariable || options.env.count(name)) continue;
      env.push_back(std::move(item));
    }
  }
  for (const auto& [name, value] : options.env) env.push_back(name + "=" + value);
  env.push_back(std::string(kChildFdVariable) + "=" + std::to_string(kChildChannelFd));
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (std::string& s : strings) result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

// Everything exec needs, prepared before forking (no allocation after it).
struct Launch {
  explicit Launch(const Options& options)
      : path(options.executable.empty() ? "/proc/self/exe" : options.executable.string()),
        shown(options.executable.empty() ? "this program (" + std::string(program_invocation_name) + ")"
                                         : "'" + path + "'"),
        args{options.executable.empty() ? program_invocation_name : path},
        env(child_environment(options)),
        cwd(options.cwd.string()) {
    args.insert(args.end(), options.args.begin(), options.args.end());
    argv = pointers(args);
    envp = pointers(env);
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) {
      throw SpawnError(std::string("procxy: parent: cannot create the channel to a child: ") + std::strerror(errno) +
                       " (too many open files?)");
    }
    if (::pipe2(error_pipe, O_CLOEXEC) != 0) {
      int error = errno;
      ::close(sockets[0]);
      ::close(sockets[1]);
      throw SpawnError(std::string("procxy: parent: cannot create a pipe: ") + std::strerror(error));
    }
  }
  ~Launch() {
    for (int fd : {sockets[0], sockets[1], error_pipe[0], error_pipe[1]}) {
      if (fd >= 0) ::close(fd);
    }
  }
  Launch(const Launch&) = delete;
  Launch& operator=(const Launch&) = delete;

  [[noreturn]] void exec(const ChildFds& fds, pid_t parent) {
    exec_child(fds, parent, cwd.empty() ? nullptr : cwd.c_str(), path.c_str(), argv.data(), envp.data());
  }
  // After the fork: the child's ends belong to the child.
  void forked() {
    ::close(std::exchange(sockets[1], -1));
    ::close(std::exchange(error_pipe[1], -1));
  }
  // Reads what the children write to the error pipe until exec closes it.
  // Throws SpawnError (after `on_failure`) when the child could not exec.
  void expect_exec(const std::function<void(pid_t)>& on_pid, const std::function<void()>& on_failure) {
    ExecFailure report{};
    for (;;) {
      ssize_t n = ::read(error_pipe[0], &report, sizeof report);
      if (n < 0 && errno == EINTR) continue;
      if (n != sizeof report) return;  // closed by exec
      if (report.stage == kStagePid) {
        on_pid(report.pid);
        continue;
      }
      on_failure();
      if (report.stage == kStageChdir) {
        throw SpawnError("procxy: parent: cannot start child: cannot enter directory '" + cwd +
                         "': " + std::strerror(report.error) + " (check Options::cwd)");
      }
      throw SpawnError("procxy: parent: cannot start child " + shown + ": " + std::strerror(report.error) +
                       " (check Options::executable)");
    }
  }
  StartedProcess started(std::shared_ptr<ChildProcess> process) {
    return {std::move(process), std::exchange(sockets[0], -1), shown};
  }

  std::string path;
  std::string shown;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd;
  std::vector<char*> argv;
  std::vector<char*> envp;
  int sockets[2] = {-1, -1};
  int error_pipe[2] = {-1, -1};
};

}  // namespace

StartedProcess start_process(const Options& options) {
  Launch launch(options);
  pid_t parent = getpid();
  struct Forked {
    pid_t pid;
    int pidfd;
    int error;
  };
  Forked forked = Spawner::instance().run([&]() -> Forked {
    pid_t pid = ::fork();
    if (pid == 0) launch.exec({launch.sockets[1], launch.error_pipe[1]}, parent);
    if (pid < 0) return {pid, -1, errno};
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    return {pid, pidfd, pidfd < 0 ? errno : 0};
  });
  launch.forked();
  if (forked.pid < 0 || forked.pidfd < 0) {
    if (forked.pid > 0) ::kill(forked.pid, SIGKILL);  // cannot supervise it: do not leave it running
    throw SpawnError(std::string("procxy: parent: cannot start a child: ") + std::strerror(forked.error));
  }
  auto process = Supervisor::instance().watch(forked.pid, forked.pidfd);
  launch.expect_exec([](pid_t) {}, [&] { process->wait(); });
  log(LogCategory::kSpawn, "started child %d: %s", static_cast<int>(forked.pid), launch.shown.c_str());
  return launch.started(std::move(process));
}

StartedProcess start_detached_process(const Options& options, int lock_fd, int log_fd) {
  Launch launch(options);
  // Forked twice, with a new session in between: the child belongs to no
  // process of ours (init reaps it), so it outlives the one that started it.
  pid_t middle = ::fork();
  if (middle == 0) {
    ::setsid();
    pid_t pid = ::fork();
    if (pid == 0) launch.exec({launch.sockets[1], launch.error_pipe[1], lock_fd, log_fd}, 0);
    ExecFailure report{pid < 0 ? errno : 0, pid < 0 ? kStageExec : kStagePid, pid};
    [[maybe_unused]] ssize_t n = ::write(launch.error_pipe[1], &report, sizeof report);
    _exit(0);
  }
  if (middle < 0) throw SpawnError(std::string("procxy: parent: cannot start a child: ") + std::strerror(errno));
  launch.forked();
  int status;
  while (::waitpid(middle, &status, 0) < 0 && errno == EINTR) {
  }
  std::shared_ptr<ChildProcess> process;
  launch.expect_exec(
      [&](pid_t pid) {
        int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
        if (pidfd >= 0) process = Supervisor::instance().watch(pid, pidfd, false);
      },
      [] {});
  if (!process) {
    throw SpawnError("procxy: parent: the shared child " + launch.shown + " exited before it could be watched");
  }
  log(LogCategory::kAttach, "started shared child %d: %s", static_cast<int>(process->pid()), launch.shown.c_str());
  return launch.started(std::move(process));
}

}  // namespace procxy::detail
