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
#include <filesystem>
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

bool procxy_variable(const std::string& name) {
  return name == kChildFdVariable || name == kParentPidVariable || name == kLimitsVariable;
}

std::vector<std::string> child_environment(const Options& options, pid_t parent) {
  std::vector<std::string> env;
  if (options.inherit_env) {
    for (char** entry = environ; *entry; ++entry) {
      std::string item = *entry;
      std::string name = item.substr(0, item.find('='));
      if (procxy_variable(name) || options.env.count(name)) continue;
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

// A launcher runs in this process's environment, less procxy's own
// variables (a launcher such as srun passes it on to the child). The
// child's Options::env and cwd go in its start message.
std::vector<std::string> launcher_environment() {
  std::vector<std::string> env;
  for (char** entry = environ; *entry; ++entry) {
    std::string item = *entry;
    if (!procxy_variable(item.substr(0, item.find('=')))) env.push_back(std::move(item));
  }
  return env;
}

// `word` as a POSIX shell reads it back: ssh joins the words of its command
// with spaces and hands them to the remote user's shell.
std::string shell_quoted(const std::string& word) {
  bool plain = !word.empty() && word.find_first_not_of(
                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789_-./,:=+@%") == std::string::npos;
  if (plain) return word;
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// This program's path, for a launched child that runs it on another machine.
std::string own_path() {
  char path[4096];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return program_invocation_name;
  return std::string(path, static_cast<std::size_t>(n));
}

// What is run, and how messages name it.
struct Command {
  std::string path;  // posix_spawn's; a launcher's is looked up in PATH
  std::string shown;
  std::vector<std::string> argv;
  bool launched = false;
};

Command command_of(const Options& options) {
  Command command;
  if (options.launcher.empty()) {
    command.path = options.executable.empty() ? "/proc/self/exe" : options.executable.string();
    command.shown = options.executable.empty() ? "this program (" + std::string(program_invocation_name) + ")"
                                               : "'" + command.path + "'";
    command.argv = {options.executable.empty() ? program_invocation_name : command.path};
    command.argv.insert(command.argv.end(), options.args.begin(), options.args.end());
    return command;
  }
  command.launched = true;
  command.path = options.launcher.front();
  std::vector<std::string> words = {options.executable.empty() ? own_path() : options.executable.string(),
                                    kLaunchedArgument};
  words.insert(words.end(), options.args.begin(), options.args.end());
  bool through_shell = std::filesystem::path(command.path).filename() == "ssh";
  command.argv = options.launcher;
  std::string line;
  for (const std::string& word : options.launcher) line += word + " ";
  for (const std::string& word : words) {
    command.argv.push_back(through_shell ? shell_quoted(word) : word);
    line += command.argv.back() + " ";
  }
  line.pop_back();
  command.shown = "'" + line + "' (Options::launcher)";
  return command;
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
      : command_(command_of(options)),
        env_(command_.launched ? launcher_environment() : child_environment(options, detached ? 0 : ::getpid())),
        cwd_(command_.launched ? std::string() : options.cwd.string()) {
    argv_ = pointers(command_.argv);
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
    int first_closed = kChildChannelFd + 1;
    if (command_.launched) {
      // The launcher's stdin and stdout are the channel; its stderr (its
      // own errors, and all the child writes) comes to the output pump.
      move_into_child(child_end, 0);
      move_into_child(child_end, 1);
      pipe_into_child(2, "Options::launcher");
      first_closed = 3;
    } else {
      move_into_child(child_end, kChildChannelFd);
    }
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
    if (!detached && !command_.launched) wire_output(options.output);
    if (!cwd_.empty()) check_prepared(::posix_spawn_file_actions_addchdir_np(&actions_.value, cwd_.c_str()));
    check_prepared(::posix_spawn_file_actions_addclosefrom_np(&actions_.value, first_closed));
  }

  // Starts the child: 0 and its pid in `pid`, or the errno.
  int spawn(pid_t& pid) {
    auto run = command_.launched ? ::posix_spawnp : ::posix_spawn;  // a launcher is found in PATH
    return run(&pid, command_.path.c_str(), &actions_.value, &attributes_.value, argv_.data(), envp_.data());
  }
  // After the start: the fds moved into the child are the child's.
  void release_child_fds() { moved_.clear(); }
  // Throws the SpawnError for a start that failed with `error`.
  [[noreturn]] void fail(int error) const {
    if (int cwd_error = cwd_.empty() ? 0 : cannot_enter(cwd_)) {
      throw SpawnError("procxy: parent: cannot start child: cannot enter directory '" + cwd_ +
                       "': " + std::strerror(cwd_error) + " (check Options::cwd)");
    }
    throw SpawnError("procxy: parent: cannot start child " + command_.shown + ": " + std::strerror(error) +
                     (command_.launched ? " (check Options::launcher)" : " (check Options::executable)"));
  }
  StartedProcess started(std::shared_ptr<ChildProcess> process) {
    return {std::move(process), parent_end_.release(), command_.shown};
  }
  const std::string& shown() const { return command_.shown; }
  // The parent's ends of the child's stdout and stderr pipes, for the output
  // pump (which takes them); -1 when the child writes elsewhere.
  int take_output_fd(int child_fd) { return output_read_[child_fd - 1].release(); }
  bool pumped() const { return output_read_[1].get() >= 0; }

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
        for (int child_fd : {1, 2}) pipe_into_child(child_fd, "Options::output");
        return;
    }
  }

  // Puts the write end of a new pipe on `child_fd` in the child; the parent
  // keeps the read end for the output pump. `why` names the option.
  void pipe_into_child(int child_fd, const char* why) {
    // Close-on-exec here, so that no other child inherits them (the copy on
    // 1 or 2 in this child is made without the flag).
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) {
      throw SpawnError(std::string("procxy: parent: cannot create a pipe for a child's output (") + why +
                       "): " + std::strerror(errno) + " (too many open files?)");
    }
    output_read_[child_fd - 1] = kj::AutoCloseFd(ends[0]);
    kj::AutoCloseFd write_end(ends[1]);
    move_into_child(write_end, child_fd);
  }

  // Puts a copy of `fd` on `target` in the child. The copy is taken above every
  // target, so that moving one fd into place never overwrites another.
  void move_into_child(int fd, int target) {
    int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, kSharedLockFd + 1);
    if (copy < 0) check_prepared(errno);
    moved_.emplace_back(copy);
    check_prepared(::posix_spawn_file_actions_adddup2(&actions_.value, copy, target));
  }

  Command command_;
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
  std::shared_ptr<ChildOutput> output;
  if (launch.pumped()) {
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
  }
  // The child's exit waits for its last lines, so that they are in before a
  // ChildExitedError is thrown or wait() returns.
  auto process = Supervisor::instance().watch(spawned.pid, spawned.pidfd, true, std::move(output));
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
