#include "process/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
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

// What the child writes to the error pipe when it cannot exec.
struct ExecFailure {
  int error;
  int stage;  // 0: chdir, 1: exec
};

// Between fork and exec only async-signal-safe calls are allowed.
[[noreturn]] void exec_child(int channel, int error_pipe, pid_t parent, const char* cwd, const char* path,
                             char* const* argv, char* const* envp) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &default_action, nullptr);

  // Die with the parent, even by SIGKILL; and if it is already gone, go now.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(1);

  // Move both fds out of the way first, then into place: fd 3 the channel
  // (inherited across exec), fd 4 the error pipe (closed by exec).
  int channel_high = fcntl(channel, F_DUPFD_CLOEXEC, 64);
  int error_high = fcntl(error_pipe, F_DUPFD_CLOEXEC, 64);
  dup2(channel_high, kChildChannelFd);
  dup3(error_high, 4, O_CLOEXEC);
  syscall(SYS_close_range, 5, ~0U, 0);

  ExecFailure failure{0, 0};
  if (cwd && chdir(cwd) != 0) {
    failure = {errno, 0};
  } else {
    execve(path, argv, envp);
    failure = {errno, 1};
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

}  // namespace

StartedProcess start_process(const Options& options) {
  std::string path = options.executable.empty() ? "/proc/self/exe" : options.executable.string();
  std::string shown =
      options.executable.empty() ? "this program (" + std::string(program_invocation_name) + ")" : "'" + path + "'";
  std::vector<std::string> args = {options.executable.empty() ? program_invocation_name : path};
  args.insert(args.end(), options.args.begin(), options.args.end());
  std::vector<std::string> env = child_environment(options);
  std::vector<char*> argv = pointers(args);
  std::vector<char*> envp = pointers(env);
  std::string cwd = options.cwd.string();

  int sockets[2];
  int error_pipe[2];
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

  pid_t parent = getpid();
  struct Forked {
    pid_t pid;
    int pidfd;
    int error;
  };
  Forked forked = Spawner::instance().run([&]() -> Forked {
    pid_t pid = ::fork();
    if (pid == 0) {
      exec_child(sockets[1], error_pipe[1], parent, cwd.empty() ? nullptr : cwd.c_str(), path.c_str(), argv.data(),
                 envp.data());
    }
    if (pid < 0) return {pid, -1, errno};
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    return {pid, pidfd, pidfd < 0 ? errno : 0};
  });
  ::close(sockets[1]);
  ::close(error_pipe[1]);
  if (forked.pid < 0 || forked.pidfd < 0) {
    if (forked.pid > 0) ::kill(forked.pid, SIGKILL);  // cannot supervise it: do not leave it running
    ::close(sockets[0]);
    ::close(error_pipe[0]);
    throw SpawnError(std::string("procxy: parent: cannot start a child: ") + std::strerror(forked.error));
  }
  auto process = Supervisor::instance().watch(forked.pid, forked.pidfd);

  ExecFailure failure{};
  ssize_t n;
  do {
    n = ::read(error_pipe[0], &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  ::close(error_pipe[0]);
  if (n == sizeof failure) {
    ::close(sockets[0]);
    process->wait();
    if (failure.stage == 0) {
      throw SpawnError("procxy: parent: cannot start child: cannot enter directory '" + cwd +
                       "': " + std::strerror(failure.error) + " (check Options::cwd)");
    }
    throw SpawnError("procxy: parent: cannot start child " + shown + ": " + std::strerror(failure.error) +
                     " (check Options::executable)");
  }
  log(LogCategory::kSpawn, "started child %d: %s", static_cast<int>(forked.pid), shown.c_str());
  return {process, sockets[0], shown};
}

}  // namespace procxy::detail
