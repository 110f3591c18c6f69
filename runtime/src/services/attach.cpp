#include "services/attach.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <thread>

#include "log.h"
#include "process/spawn.h"
#include "process/supervisor.h"
#include "procxy/errors.h"
#include "services/construct.h"
#include "transport/unix_socket.h"
#include "wire/failure.h"

namespace procxy::detail {
namespace {

// Room a socket path must leave in sockaddr_un::sun_path: the child binds it
// first under "<socket>.<pid>".
constexpr std::size_t kBoundSuffix = 12;

std::string errno_text(int error) { return std::strerror(error); }

std::string uid_text() { return std::to_string(::geteuid()); }

// Owned by us, a directory (not a link to one), and closed to everybody else.
void verify_directory(const std::string& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) {
    throw SpawnError("procxy: parent: cannot use the runtime directory '" + path + "': " + errno_text(errno));
  }
  std::string fix = " (remove it, or set XDG_RUNTIME_DIR to a directory of your own)";
  if (!S_ISDIR(info.st_mode)) {
    throw SpawnError("procxy: parent: the runtime directory '" + path + "' is not a directory" + fix);
  }
  if (info.st_uid != ::geteuid()) {
    // Squatted, most likely: in a sticky /tmp only its owner or root can remove it.
    throw SpawnError("procxy: parent: the runtime directory '" + path + "' belongs to uid " +
                     std::to_string(info.st_uid) + ", not to this user (uid " + uid_text() +
                     "); another user could then reach or replace its sockets. Set XDG_RUNTIME_DIR to a directory "
                     "only you can write (such as /run/user/" +
                     uid_text() + "), or have uid " + std::to_string(info.st_uid) + " or root remove '" + path + "'");
  }
  if ((info.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    throw SpawnError("procxy: parent: the runtime directory '" + path + "' has mode " + mode +
                     "; it must be 0700, so that no other user can enter it" + fix);
  }
}

// True when `path` is a directory of this user's that nobody else may write.
bool own_private_directory(const char* path) {
  struct stat info {};
  return ::lstat(path, &info) == 0 && S_ISDIR(info.st_mode) && info.st_uid == ::geteuid() && (info.st_mode & 022) == 0;
}

// XDG_RUNTIME_DIR; else the user's /run/user/<uid>, which the system made
// and nobody else can write; else a per-uid name in TMPDIR or /tmp, where
// another user may have created it first (verify_directory says what to do).
std::string runtime_directory() {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  std::string run_user = "/run/user/" + uid_text();
  std::string path;
  if (xdg && xdg[0] == '/') {
    path = std::string(xdg) + "/procxy";
  } else if (own_private_directory(run_user.c_str())) {
    path = run_user + "/procxy";
  } else {
    const char* tmp = std::getenv("TMPDIR");
    path = std::string(tmp && tmp[0] == '/' ? tmp : "/tmp") + "/procxy-" + uid_text();
  }
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    throw SpawnError("procxy: parent: cannot create the runtime directory '" + path + "': " + errno_text(errno) +
                     " (set XDG_RUNTIME_DIR to a writable directory of your own)");
  }
  verify_directory(path);
  return path;
}

// A start that failed, told to the processes that waited on it: written by
// the starter under the start lock, read under it. Each waiter takes only a
// failure newer than its wait (steady_clock is the system's monotonic clock,
// the same in every process), so a later attach starts afresh.
void record_failure(const SharedPaths& paths, const std::string& what) {
  auto now = std::chrono::steady_clock::now().time_since_epoch();
  std::ofstream out(paths.failed, std::ios::trunc);
  out << std::chrono::duration_cast<std::chrono::nanoseconds>(now).count() << "\n" << what;
}

std::optional<std::string> failure_since(const SharedPaths& paths, std::chrono::steady_clock::time_point since) {
  std::ifstream in(paths.failed);
  long long at = 0;
  if (!(in >> at) || std::chrono::steady_clock::time_point(std::chrono::nanoseconds(at)) < since) return std::nullopt;
  in.ignore(1);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Channel::Clock::time_point later(Channel::Clock::time_point deadline, std::chrono::milliseconds by) {
  auto now = Channel::Clock::now();
  return deadline - now < by ? deadline : now + by;
}

// The start lock of one name, released when this object goes (or this
// process dies).
class StartLock {
 public:
  explicit StartLock(const std::string& path) : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ < 0) throw SpawnError("procxy: parent: cannot open the start lock '" + path + "': " + errno_text(errno));
  }
  ~StartLock() { ::close(fd_); }
  StartLock(const StartLock&) = delete;
  StartLock& operator=(const StartLock&) = delete;

  bool try_lock() { return ::flock(fd_, LOCK_EX | LOCK_NB) == 0; }
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Connects to the child listening on paths.socket and introduces this
// process. Nothing when no child answers there (no socket, a stale one, or a
// child that is leaving).
std::optional<Link> connect_shared(const SharedPaths& paths, const ChildRecipe& recipe,
                                   Channel::Clock::time_point deadline) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw SpawnError("procxy: parent: cannot create a socket: " + errno_text(errno));
  auto channel = std::make_unique<Channel>(fd);
  sockaddr_un address = *unix_address(paths.socket);  // shared_paths() checked its length
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    if (errno == ENOENT || errno == ECONNREFUSED) return std::nullopt;
    throw SpawnError("procxy: parent: cannot connect to the shared child at '" + paths.socket +
                     "': " + errno_text(errno));
  }
  std::optional<ucred> credentials = peer_credentials(fd);
  if (!credentials) {
    throw SpawnError("procxy: parent: cannot tell who serves '" + paths.socket + "': " + errno_text(errno));
  }
  const ucred& peer = *credentials;
  if (peer.uid != ::geteuid()) {
    throw SpawnError("procxy: parent: the shared child at '" + paths.socket + "' (process " + std::to_string(peer.pid) +
                     ") runs as uid " + std::to_string(peer.uid) + ", not as this user (uid " +
                     std::to_string(::geteuid()) + "); refusing to use it");
  }

  write_select(*channel, selection_of(recipe, nullptr));
  std::string child = "the shared child '" + recipe.shared_name + "' (process " + std::to_string(peer.pid) + ")";
  Answer answer = read_answer(*channel, deadline, child);
  switch (answer.status) {
    case Answer::kReady:
      break;
    case Answer::kTimeout:
      throw SpawnError("procxy: parent: " + child + " did not answer within " +
                       std::to_string(recipe.options.timeout.count()) + " ms; it may be stuck (see " + paths.log +
                       ", or kill it to have a new one started)");
    case Answer::kClosed:
      return std::nullopt;  // it closed the connection: it is leaving
    case Answer::kFailure:
      std::rethrow_exception(
          to_exception(std::move(answer.failure), FailureContext::kStart, recipe.class_name, peer.pid));
  }
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, peer.pid, 0));
  if (pidfd < 0) return std::nullopt;  // gone since it answered
  log(LogCategory::kAttach, "attached to shared child %d '%s'", static_cast<int>(peer.pid), recipe.shared_name.c_str());
  return Link{std::move(channel), Supervisor::instance().watch(peer.pid, pidfd, false), peer.pid};
}

// Starts the shared child, with the start lock held. Returns the channel it
// was started on once it listens; the child counts it as a client until it
// closes, so it cannot leave before the caller connected.
std::unique_ptr<Channel> start_shared(const SharedPaths& paths, const ChildRecipe& recipe, int lock_fd,
                                      Channel::Clock::time_point deadline) {
  int log_fd = ::open(paths.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    throw SpawnError("procxy: parent: cannot create the shared child's log '" + paths.log + "': " + errno_text(errno));
  }
  StartedProcess started;
  try {
    started = start_detached_process(recipe.options, lock_fd, log_fd);
  } catch (...) {
    ::close(log_fd);
    throw;
  }
  ::close(log_fd);
  auto channel = std::make_unique<Channel>(started.channel_fd);
  std::string what = recipe.class_name + " in shared child " + std::to_string(started.process->pid()) + " '" +
                     recipe.shared_name + "' (" + started.executable + ")";
  construct(*channel, *started.process, recipe, what, deadline, &paths);
  return channel;
}

// The paths for `name`, creating the runtime directory when missing. Throws
// SpawnError for a bad name, or a directory another user owns or may enter.
SharedPaths shared_paths(std::string_view name) {
  check_shared_name(name);
  std::string directory = runtime_directory();
  std::string base = directory + "/" + std::string(name);
  SharedPaths paths{directory, base + ".sock", base + ".lock", base + ".log", base + ".failed"};
  if (paths.socket.size() + kBoundSuffix >= sizeof(sockaddr_un::sun_path)) {
    throw SpawnError("procxy: parent: the socket path '" + paths.socket +
                     "' is too long for a unix socket; use a shorter name, or set XDG_RUNTIME_DIR to a shorter "
                     "directory");
  }
  return paths;
}

}  // namespace

void check_shared_name(std::string_view name) {
  bool valid =
      !name.empty() && name.size() <= 64 && name[0] != '.' && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == '-';
      });
  if (!valid) {
    throw SpawnError("procxy: parent: '" + std::string(name) +
                     "' cannot name a shared child: use 1 to 64 letters, digits, '.', '_' or '-', not starting "
                     "with '.'");
  }
}

Link attach_child(const ChildRecipe& recipe) {
  SharedPaths paths = shared_paths(recipe.shared_name);
  auto deadline = start_deadline(recipe.options);
  const char* name = recipe.shared_name.c_str();
  auto pause = std::chrono::milliseconds(2);
  bool told = false;
  std::optional<std::chrono::steady_clock::time_point> waiting_since;  // a start was under way then
  for (;;) {
    if (auto link = connect_shared(paths, recipe, deadline)) return std::move(*link);
    auto looked = std::chrono::steady_clock::now();
    StartLock lock(paths.lock);
    if (lock.try_lock()) {
      // Someone may have started it between the two looks.
      if (auto link = connect_shared(paths, recipe, deadline)) return std::move(*link);
      if (waiting_since) {
        if (auto failure = failure_since(paths, *waiting_since)) {
          throw SpawnError(*failure + " (the start this process waited for, made by another process)");
        }
      }
      if (::unlink(paths.socket.c_str()) == 0)
        log(LogCategory::kAttach, "removed stale socket %s", paths.socket.c_str());
      log(LogCategory::kAttach, "starting shared child '%s'", name);
      std::unique_ptr<Channel> start;
      try {
        start = start_shared(paths, recipe, lock.fd(), deadline);
      } catch (const SpawnError& e) {
        record_failure(paths, e.what());
        throw;
      }
      if (auto link = connect_shared(paths, recipe, deadline)) return std::move(*link);
      throw SpawnError("procxy: parent: the shared child '" + recipe.shared_name +
                       "' started but does not accept connections at '" + paths.socket + "'; see " + paths.log);
    }
    if (!waiting_since) waiting_since = looked;
    if (!told) {
      log(LogCategory::kAttach, "start already in progress, waiting for shared child '%s'", name);
      told = true;
    }
    if (Channel::Clock::now() >= deadline) {
      throw SpawnError("procxy: parent: waited " + std::to_string(recipe.options.timeout.count()) +
                       " ms for another process to start the shared child '" + recipe.shared_name +
                       "'; it is still starting (a slow constructor? raise Options::timeout) or stuck (see " +
                       paths.log + ")");
    }
    std::this_thread::sleep_until(later(deadline, pause));
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

}  // namespace procxy::detail
