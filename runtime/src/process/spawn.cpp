#include "process/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <kj/io.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "log.h"
#include "mutex.h"
#include "process/limits.h"
#include "process/output.h"
#include "procxy/errors.h"

namespace procxy::detail {
namespace {

// Private children are started on this one long-lived thread: the
// parent-death signal fires when the *thread* that started a child exits, so
// starting one from a short-lived caller thread would kill the child with it.
class Spawner {
 public:
  static Spawner& instance() {
    static Spawner* spawner = new Spawner();  // lives as long as the process
    return *spawner;
  }

  // (The annotation goes first: after a trailing return type it would belong
  // to the type.)
  template <class Fn>
  PROCXY_EXCLUDES(mutex_)
  auto run(Fn fn) -> decltype(fn()) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    {
      MutexLock lock(mutex_);
      queue_.emplace_back([&task] { task(); });
    }
    cv_.notify_one();
    return result.get();
  }

 private:
  Spawner() { std::thread(&Spawner::loop, this).detach(); }

  void loop() PROCXY_EXCLUDES(mutex_) {
    for (;;) {
      std::function<void()> job;
      {
        MutexLock lock(mutex_);
        while (queue_.empty()) cv_.wait(lock.native());
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      job();
    }
  }

  // Nothing else is taken while it is held.
  Mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_ PROCXY_GUARDED_BY(mutex_);
};

// Waits for `pid`, a child of this process, to exit, so it leaves no zombie.
void reap(pid_t pid) {
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

// Why a child could not enter `directory`, or 0 if it can. posix_spawn reports
// one errno for chdir and exec alike, so the cause is found afterwards.
int cannot_enter(const std::string& directory) {
  struct stat status;
  if (::stat(directory.c_str(), &status) != 0) return errno;
  if (!S_ISDIR(status.st_mode)) return ENOTDIR;
  return ::access(directory.c_str(), X_OK) == 0 ? 0 : errno;
}

std::vector<std::string> child_environment(const Options& options, pid_t parent) {
  std::vector<std::string> env;
  if (options.inherit_env) {
    for (char** entry = environ; *entry; ++entry) {
      std::string item = *entry;
      std::string name = item.substr(0, item.find('='));
      if (name == kChildFdVariable || name == kParentPidVariable || name == kLimitsVariable ||
          options.env.count(name)) {
        continue;
      }
      env.push_back(std::move(item));
    }
  }
  for (const auto& [name, value] : options.env) env.push_back(name + "=" + value);
  env.push_back(std::string(kChildFdVariable) + "=" + std::to_string(kChildChannelFd));
  // Set by the child on itself before its main() (process/limits.h).
  if (std::string limits = limits_variable(options.limits); !limits.empty()) {
    env.push_back(std::string(kLimitsVariable) + "=" + limits);
  }
  if (parent != 0) env.push_back(std::string(kParentPidVariable) + "=" + std::to_string(parent));
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (std::string& s : strings) result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

void check_prepared(int rc) {
  if (rc != 0) throw SpawnError(std::string("procxy: parent: cannot prepare to start a child: ") + std::strerror(rc));
}

// A shared child's fds besides its channel (attach()).
struct DetachedFds {
  int lock;  // the start lock, kept as kSharedLockFd
  int log;   // its stdout and stderr; stdin goes to /dev/null
};

// A posix_spawn attribute or file-action set, owned.
template <class T, int (*init)(T*), int (*destroy)(T*)>
struct SpawnSetting {
  SpawnSetting() { check_prepared(init(&value)); }
  ~SpawnSetting() { destroy(&value); }
  SpawnSetting(const SpawnSetting&) = delete;
  SpawnSetting& operator=(const SpawnSetting&) = delete;
  T value;
};
using SpawnAttributes = SpawnSetting<posix_spawnattr_t, ::posix_spawnattr_init, ::posix_spawnattr_destroy>;
using SpawnFileActions =
    SpawnSetting<posix_spawn_file_actions_t, ::posix_spawn_file_actions_init, ::posix_spawn_file_actions_destroy>;

// Everything a start needs, prepared before it. posix_spawn runs the file
// actions and the exec in a child that shares this process's memory until it
// execs (CLONE_VFORK): no copy of the page tables as with fork, which made a
// start about 3 ms slower.
class Launch {
 public:
  // `detached`: a shared child, which outlives whoever started it (a session
  // of its own, no terminal, no death with its parent). Otherwise the child
  // dies with this process (kParentPidVariable).
  Launch(const Options& options, std::optional<DetachedFds> detached)
      : path_(options.executable.empty() ? "/proc/self/exe" : options.executable.string()),
        shown_(options.executable.empty() ? "this program (" + std::string(program_invocation_name) + ")"
                                          : "'" + path_ + "'"),
        args_{options.executable.empty() ? program_invocation_name : path_},
        env_(child_environment(options, detached ? 0 : ::getpid())),
        cwd_(options.cwd.string()) {
    args_.insert(args_.end(), options.args.begin(), options.args.end());
    argv_ = pointers(args_);
    envp_ = pointers(env_);
    int sockets[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) {
      throw SpawnError(std::string("procxy: parent: cannot create the channel to a child: ") + std::strerror(errno) +
                       " (too many open files?)");
    }
    parent_end_ = kj::AutoCloseFd(sockets[0]);
    kj::AutoCloseFd child_end(sockets[1]);
    // Signals unblocked and at their defaults, whatever this process set.
    sigset_t all, none;
    ::sigfillset(&all);
    ::sigemptyset(&none);
    short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (detached ? POSIX_SPAWN_SETSID : 0);
    check_prepared(::posix_spawnattr_setsigdefault(&attributes_.value, &all));
    check_prepared(::posix_spawnattr_setsigmask(&attributes_.value, &none));
    check_prepared(::posix_spawnattr_setflags(&attributes_.value, flags));
    move_into_child(child_end, kChildChannelFd);
    int first_closed = kChildChannelFd + 1;
    if (detached) {
      // stdout to the log too: what the child printed before it crashed is
      // there (line-buffered, serve_if_child), not lost in /dev/null.
      check_prepared(::posix_spawn_file_actions_addopen(&actions_.value, 0, "/dev/null", O_RDONLY, 0));
      move_into_child(detached->log, 2);
      check_prepared(::posix_spawn_file_actions_adddup2(&actions_.value, 2, 1));
      move_into_child(detached->lock, kSharedLockFd);
      check_prepared(::posix_spawn_file_actions_addclose(&actions_.value, kSharedLockFd - 1));
      first_closed = kSharedLockFd + 1;
    }
    if (!detached) wire_output(options.output);
    if (!cwd_.empty()) check_prepared(::posix_spawn_file_actions_addchdir_np(&actions_.value, cwd_.c_str()));
    check_prepared(::posix_spawn_file_actions_addclosefrom_np(&actions_.value, first_closed));
  }

  // Starts the child: 0 and its pid in `pid`, or the errno.
  int spawn(pid_t& pid) {
    return ::posix_spawn(&pid, path_.c_str(), &actions_.value, &attributes_.value, argv_.data(), envp_.data());
  }
  // After the start: the fds moved into the child are the child's.
  void release_child_fds() { moved_.clear(); }
  // Throws the SpawnError for a start that failed with `error`.
  [[noreturn]] void fail(int error) const {
    if (int cwd_error = cwd_.empty() ? 0 : cannot_enter(cwd_)) {
      throw SpawnError("procxy: parent: cannot start child: cannot enter directory '" + cwd_ +
                       "': " + std::strerror(cwd_error) + " (check Options::cwd)");
    }
    throw SpawnError("procxy: parent: cannot start child " + shown_ + ": " + std::strerror(error) +
                     " (check Options::executable)");
  }
  StartedProcess started(std::shared_ptr<ChildProcess> process) {
    return {std::move(process), parent_end_.release(), shown_};
  }
  const std::string& shown() const { return shown_; }
  // The parent's ends of the child's stdout and stderr pipes, for the output
  // pump (which takes them); -1 when the child writes elsewhere.
  int take_output_fd(int child_fd) { return output_read_[child_fd - 1].release(); }
  bool pumped() const { return output_read_[0].get() >= 0; }

 private:
  // Points the child's stdout and stderr where Options::output says;
  // inherit() leaves them the parent's.
  void wire_output(const Output& output) {
    switch (output.mode()) {
      case Output::Mode::kInherit:
        return;
      case Output::Mode::kDiscard:
        check_prepared(::posix_spawn_file_actions_addopen(&actions_.value, 1, "/dev/null", O_WRONLY, 0));
        check_prepared(::posix_spawn_file_actions_adddup2(&actions_.value, 1, 2));
        return;
      case Output::Mode::kPrefix:
      case Output::Mode::kTo:
        for (int child_fd : {1, 2}) {
          // Close-on-exec here, so that no other child inherits them (the
          // copy on 1 or 2 in this child is made without the flag).
          int ends[2];
          if (::pipe2(ends, O_CLOEXEC) != 0) {
            throw SpawnError(std::string("procxy: parent: cannot create a pipe for a child's output "
                                         "(Options::output): ") +
                             std::strerror(errno) + " (too many open files?)");
          }
          output_read_[child_fd - 1] = kj::AutoCloseFd(ends[0]);
          kj::AutoCloseFd write_end(ends[1]);
          move_into_child(write_end, child_fd);
        }
        return;
    }
  }

  // Puts a copy of `fd` on `target` in the child. The copy is taken above every
  // target, so that moving one fd into place never overwrites another.
  void move_into_child(int fd, int target) {
    int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, kSharedLockFd + 1);
    if (copy < 0) check_prepared(errno);
    moved_.emplace_back(copy);
    check_prepared(::posix_spawn_file_actions_adddup2(&actions_.value, copy, target));
  }

  std::string path_;
  std::string shown_;
  std::vector<std::string> args_;
  std::vector<std::string> env_;
  std::string cwd_;
  std::vector<char*> argv_;
  std::vector<char*> envp_;
  kj::AutoCloseFd parent_end_;
  kj::AutoCloseFd output_read_[2];
  std::vector<kj::AutoCloseFd> moved_;
  SpawnAttributes attributes_;
  SpawnFileActions actions_;
};

}  // namespace

StartedProcess start_process(const Options& options, const std::string& class_name) {
  Launch launch(options, std::nullopt);
  struct Spawned {
    pid_t pid = -1;
    int spawn_error = 0;
    int pidfd = -1;
    int pidfd_error = 0;
  };
  Spawned spawned = Spawner::instance().run([&] {
    Spawned result;
    result.spawn_error = launch.spawn(result.pid);
    if (result.spawn_error != 0) return result;
    result.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, result.pid, 0));
    if (result.pidfd < 0) result.pidfd_error = errno;
    return result;
  });
  launch.release_child_fds();
  if (spawned.spawn_error != 0) launch.fail(spawned.spawn_error);
  if (spawned.pidfd < 0) {
    ::kill(spawned.pid, SIGKILL);  // cannot supervise it: do not leave it running
    reap(spawned.pid);
    throw SpawnError(std::string("procxy: parent: cannot watch a new child: ") + std::strerror(spawned.pidfd_error));
  }
  std::function<void()> drain_output;
  if (launch.pumped()) {
    std::shared_ptr<ChildOutput> output;
    try {
      output = pump_output(launch.take_output_fd(1), launch.take_output_fd(2), class_name, spawned.pid, options.output);
    } catch (const std::exception& e) {
      ::kill(spawned.pid, SIGKILL);  // its output would go nowhere: do not leave it running
      ::close(spawned.pidfd);
      reap(spawned.pid);
      throw SpawnError(std::string("procxy: parent: cannot start the thread that reads children's output "
                                   "(Options::output): ") +
                       e.what());
    }
    // The child's exit waits for its last lines, so that they are in before a
    // ChildExitedError is thrown or wait() returns.
    drain_output = [output] { output->drain(); };
  }
  auto process = Supervisor::instance().watch(spawned.pid, spawned.pidfd, true, std::move(drain_output));
  log(LogCategory::kSpawn, "started child %d: %s", static_cast<int>(spawned.pid), launch.shown().c_str());
  return launch.started(std::move(process));
}

StartedProcess start_detached_process(const Options& options, int lock_fd, int log_fd) {
  Launch launch(options, DetachedFds{lock_fd, log_fd});
  int report_pipe[2];
  if (::pipe2(report_pipe, O_CLOEXEC) != 0) {
    throw SpawnError(std::string("procxy: parent: cannot create a pipe: ") + std::strerror(errno));
  }
  // Started by a middle process that exits at once: the child belongs to no
  // process of ours (init reaps it), so it outlives the one that started it.
  struct Report {
    int error;
    pid_t pid;
  };
  pid_t middle = ::fork();
  if (middle == 0) {
    Report report{0, -1};
    report.error = launch.spawn(report.pid);
    [[maybe_unused]] ssize_t n = ::write(report_pipe[1], &report, sizeof report);
    _exit(0);
  }
  Report report{errno, -1};
  ::close(report_pipe[1]);
  if (middle > 0) {
    reap(middle);
    if (::read(report_pipe[0], &report, sizeof report) != sizeof report) report = {ECHILD, -1};
  }
  ::close(report_pipe[0]);
  launch.release_child_fds();
  if (report.error != 0) launch.fail(report.error);
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, report.pid, 0));
  if (pidfd < 0) {
    throw SpawnError("procxy: parent: the shared child " + launch.shown() + " exited before it could be watched");
  }
  auto process = Supervisor::instance().watch(report.pid, pidfd, false);
  log(LogCategory::kAttach, "started shared child %d: %s", static_cast<int>(report.pid), launch.shown().c_str());
  return launch.started(std::move(process));
}

}  // namespace procxy::detail
