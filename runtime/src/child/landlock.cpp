#include "child/landlock.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <string>

#include "procxy/errors.h"
#include "side.h"

namespace procxy::detail {
namespace {

// The UAPI of <linux/landlock.h>, spelled out: Debian 12's headers stop at
// ABI 2, and the kernel that runs the child may offer more. The syscall
// numbers are the same on every architecture.
constexpr long kCreateRuleset = 444;
constexpr long kAddRule = 445;
constexpr long kRestrictSelf = 446;
constexpr std::uint32_t kCreateRulesetVersion = 1u << 0;
constexpr int kRulePathBeneath = 1;

constexpr std::uint64_t kExecute = 1ull << 0;
constexpr std::uint64_t kWriteFile = 1ull << 1;
constexpr std::uint64_t kReadFile = 1ull << 2;
constexpr std::uint64_t kReadDir = 1ull << 3;
constexpr std::uint64_t kRemoveDir = 1ull << 4;
constexpr std::uint64_t kRemoveFile = 1ull << 5;
constexpr std::uint64_t kMakeChar = 1ull << 6;
constexpr std::uint64_t kMakeDir = 1ull << 7;
constexpr std::uint64_t kMakeReg = 1ull << 8;
constexpr std::uint64_t kMakeSock = 1ull << 9;
constexpr std::uint64_t kMakeFifo = 1ull << 10;
constexpr std::uint64_t kMakeBlock = 1ull << 11;
constexpr std::uint64_t kMakeSym = 1ull << 12;
constexpr std::uint64_t kRefer = 1ull << 13;     // ABI 2
constexpr std::uint64_t kTruncate = 1ull << 14;  // ABI 3
constexpr std::uint64_t kIoctlDev = 1ull << 15;  // ABI 5
// The rights that apply to a file, as opposed to a directory.
constexpr std::uint64_t kFileRights = kExecute | kWriteFile | kReadFile | kTruncate | kIoctlDev;

constexpr std::uint64_t kBindTcp = 1ull << 0;                  // ABI 4
constexpr std::uint64_t kConnectTcp = 1ull << 1;               // ABI 4
constexpr std::uint64_t kScopeAbstractUnixSocket = 1ull << 0;  // ABI 6
constexpr std::uint64_t kScopeSignal = 1ull << 1;              // ABI 6

struct RulesetAttr {
  std::uint64_t handled_access_fs;
  std::uint64_t handled_access_net;  // ABI 4
  std::uint64_t scoped;              // ABI 6
};

struct __attribute__((packed)) PathBeneathAttr {
  std::uint64_t allowed_access;
  std::int32_t parent_fd;
};

std::string me() { return std::string("procxy: ") + side_name(); }

// Landlock restricts the thread that asks, and the threads it starts later:
// every thread that exists when the sandbox engages (the object's own, the
// runtime's) must ask for itself. Each is sent kRestrictSignal, and its
// handler restricts it and answers in its slot.
const int kRestrictSignal = SIGRTMAX;
constexpr std::size_t kMaxThreads = 1024;
constexpr int kPending = -1;
std::atomic<int> ruleset_fd{-1};
std::array<std::atomic<pid_t>, kMaxThreads> slot_tid;
std::array<std::atomic<int>, kMaxThreads> slot_result;  // kPending, 0, or an errno

void restrict_this_thread(int) {
  int saved = errno;
  auto tid = static_cast<pid_t>(::syscall(SYS_gettid));
  int result = 0;
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::syscall(kRestrictSelf, ruleset_fd.load(), 0) != 0) {
    result = errno;
  }
  for (std::size_t i = 0; i < kMaxThreads; ++i) {
    if (slot_tid[i].load() == tid) {
      slot_result[i].store(result);
      break;
    }
  }
  errno = saved;
}

std::set<pid_t> threads() {
  DIR* dir = ::opendir("/proc/self/task");
  if (!dir) {
    throw Error(me() + ": cannot engage Options::sandbox: cannot list this process's threads in /proc/self/task: " +
                std::strerror(errno) + " (is /proc mounted?)");
  }
  std::set<pid_t> tids;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') tids.insert(static_cast<pid_t>(std::atoi(entry->d_name)));
  }
  ::closedir(dir);
  return tids;
}

// "thread 4243 (worker)", for errors.
std::string thread_name(pid_t tid) {
  std::ifstream comm("/proc/self/task/" + std::to_string(tid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return "thread " + std::to_string(tid) + (name.empty() ? "" : " (" + name + ")");
}

bool thread_exists(pid_t tid) { return ::access(("/proc/self/task/" + std::to_string(tid)).c_str(), F_OK) == 0; }

#if defined(__SANITIZE_THREAD__)
// ThreadSanitizer's background thread blocks every signal, so it cannot be
// made to restrict itself. A build under TSan is for testing procxy, not for
// confining anything: that thread is passed over, and the log says so.
bool sanitizer_thread(pid_t tid) {
  std::ifstream status("/proc/self/task/" + std::to_string(tid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("SigBlk:", 0) == 0) {
      unsigned long long blocked = std::strtoull(line.c_str() + 7, nullptr, 16);
      return (blocked >> (kRestrictSignal - 1)) & 1;
    }
  }
  return false;
}
#else
bool sanitizer_thread(pid_t) { return false; }
#endif

// Restricts every thread but this one with `ruleset`. Throws when a thread
// cannot be, or does not answer within 2 s (it blocks kRestrictSignal).
// Returns how many threads were passed over (sanitizer_thread).
int restrict_other_threads(int ruleset) {
  struct sigaction restrict_action {};
  restrict_action.sa_handler = restrict_this_thread;
  restrict_action.sa_flags = SA_RESTART;
  sigemptyset(&restrict_action.sa_mask);
  struct sigaction previous {};
  ::sigaction(kRestrictSignal, nullptr, &previous);
  if (previous.sa_handler != SIG_DFL) {
    throw Error(me() +
                ": cannot engage Options::sandbox: the object handles signal SIGRTMAX, which procxy "
                "sends each of its threads once to apply the sandbox; use another real-time signal");
  }
  ::sigaction(kRestrictSignal, &restrict_action, nullptr);
  ruleset_fd.store(ruleset);
  auto self = static_cast<pid_t>(::syscall(SYS_gettid));
  std::size_t used = 0;
  int passed_over = 0;
  std::string failure;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  // Listed again until no new thread appears: one that was not restricted
  // yet may have started another.
  for (bool more = true; more && failure.empty();) {
    more = false;
    for (pid_t tid : threads()) {
      bool known = tid == self;
      for (std::size_t i = 0; i < used && !known; ++i) known = slot_tid[i].load() == tid;
      if (known) continue;
      if (used == kMaxThreads) {
        failure = "the process has more than " + std::to_string(kMaxThreads) + " threads";
        break;
      }
      more = true;
      slot_result[used].store(kPending);
      slot_tid[used].store(tid);
      ++used;
      if (sanitizer_thread(tid)) {
        slot_result[used - 1].store(0);
        ++passed_over;
        continue;
      }
      if (::syscall(SYS_tgkill, ::getpid(), tid, kRestrictSignal) != 0) {
        if (errno != ESRCH) {
          failure = "cannot signal " + thread_name(tid) + ": " + std::strerror(errno);
          break;
        }
        slot_result[used - 1].store(0);  // it ended
      }
    }
    for (std::size_t i = 0; i < used && failure.empty(); ++i) {
      while (slot_result[i].load() == kPending && thread_exists(slot_tid[i].load())) {
        if (std::chrono::steady_clock::now() > deadline) {
          failure = thread_name(slot_tid[i].load()) +
                    " did not restrict itself within 2 s: does it block signal SIGRTMAX, which procxy sends each "
                    "thread once to apply the sandbox? Let it take SIGRTMAX while the object is constructed";
          break;
        }
        timespec pause{0, 100'000};
        ::nanosleep(&pause, nullptr);
      }
      int result = slot_result[i].load();
      if (result > 0) {
        failure = thread_name(slot_tid[i].load()) + " could not restrict itself: " + std::strerror(result);
      }
    }
  }
  ::sigaction(kRestrictSignal, &previous, nullptr);
  for (std::size_t i = 0; i < used; ++i) slot_tid[i].store(0);
  if (!failure.empty()) throw Error(me() + ": cannot engage Options::sandbox: " + failure);
  return passed_over;
}

std::uint64_t handled_fs(int abi, bool exec) {
  std::uint64_t rights = kExecute | kWriteFile | kReadFile | kReadDir | kRemoveDir | kRemoveFile | kMakeChar |
                         kMakeDir | kMakeReg | kMakeSock | kMakeFifo | kMakeBlock | kMakeSym;
  if (abi >= 2) rights |= kRefer;
  if (abi >= 3) rights |= kTruncate;
  if (abi >= 5) rights |= kIoctlDev;
  if (exec) rights &= ~kExecute;  // what the object executes is still confined to the paths
  return rights;
}

std::uint64_t allowed(PathRule::Access access, std::uint64_t handled) {
  switch (access) {
    case PathRule::kRead:
      return handled & (kReadFile | kReadDir);
    case PathRule::kReadWrite:
      return handled;
  }
  return 0;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

void add_rule(int ruleset, const PathRule& rule, std::uint64_t handled) {
  Fd path(::open(rule.path.c_str(), O_PATH | O_CLOEXEC));
  struct stat status {};
  if (path.get() < 0 || ::fstat(path.get(), &status) != 0) {
    if (rule.origin.empty()) return;  // the runtime's own: nothing to read there
    throw Error(me() + ": cannot engage Options::sandbox: " + rule.origin + " is '" + rule.path +
                "', which cannot be opened here: " + std::strerror(errno) +
                " (the paths are those of the child's machine; give ones that exist)");
  }
  std::uint64_t access = allowed(rule.access, handled);
  if (!S_ISDIR(status.st_mode)) access &= kFileRights;
  if (access == 0) return;
  PathBeneathAttr beneath{access, path.get()};
  if (::syscall(kAddRule, ruleset, kRulePathBeneath, &beneath, 0) != 0) {
    throw Error(me() + ": cannot engage Options::sandbox: Landlock refused the rule for '" + rule.path +
                "': " + std::strerror(errno) + (rule.origin.empty() ? "" : " (" + rule.origin + ")"));
  }
}

}  // namespace

int landlock_abi() {
  long abi = ::syscall(kCreateRuleset, nullptr, 0, kCreateRulesetVersion);
  return abi < 0 ? 0 : static_cast<int>(abi);
}

std::string restrict_paths(const LandlockRules& rules, int abi) {
  RulesetAttr attr{handled_fs(abi, rules.exec), 0, 0};
  if (abi >= 4 && !rules.network) attr.handled_access_net = kBindTcp | kConnectTcp;
  // Each thread restricts itself, so each is a domain of its own; before
  // ABI 7 (Linux 6.15) the signal scope stopped signals between them.
  if (abi >= 6) attr.scoped = (abi >= 7 ? kScopeSignal : 0) | (rules.network ? 0 : kScopeAbstractUnixSocket);
  // An older kernel refuses a larger struct than it knows.
  std::size_t size = abi >= 6   ? sizeof attr
                     : abi >= 4 ? offsetof(RulesetAttr, scoped)
                                : offsetof(RulesetAttr, handled_access_net);
  Fd ruleset(static_cast<int>(::syscall(kCreateRuleset, &attr, size, 0)));
  if (ruleset.get() < 0) {
    throw Error(me() +
                ": cannot engage Options::sandbox: Landlock would not create a ruleset: " + std::strerror(errno));
  }
  for (const PathRule& rule : rules.paths) add_rule(ruleset.get(), rule, attr.handled_access_fs);
  // The others first: once this thread is in the domain, signals to threads
  // outside it may be refused (ABI 6's signal scope).
  int passed_over = restrict_other_threads(ruleset.get());
  if (::syscall(kRestrictSelf, ruleset.get(), 0) != 0) {
    throw Error(me() + ": cannot engage Options::sandbox: landlock_restrict_self: " + std::strerror(errno) +
                (errno == E2BIG ? " (the process is already in 16 nested Landlock domains: start the child "
                                  "from a less confined parent)"
                                : ""));
  }
  std::string engaged =
      "Landlock ABI " + std::to_string(abi) + " (" + std::to_string(rules.paths.size()) + " path rules";
  if (attr.handled_access_net) engaged += ", no TCP bind or connect";
  if (attr.scoped & kScopeSignal) engaged += ", signals scoped";
  if (attr.scoped & kScopeAbstractUnixSocket) engaged += ", abstract unix sockets scoped";
  if (passed_over) engaged += ", ThreadSanitizer's thread left out";
  return engaged + ")";
}

}  // namespace procxy::detail
