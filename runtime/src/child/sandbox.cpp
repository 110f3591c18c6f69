#include "child/sandbox.h"

#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <string>

#include "child/landlock.h"
#include "child/syscall_filter.h"
#include "log.h"
#include "procxy/errors.h"
#include "sandbox_death.h"
#include "side.h"

namespace procxy::detail {
namespace {

std::string me() { return std::string("procxy: ") + side_name(); }

std::atomic<Channel*> trap_channel{nullptr};
// The process that engaged the sandbox: a process it forks shares the
// handler but not the right to speak on the channel.
std::atomic<pid_t> trap_pid{0};

// The names of the syscalls the filter traps, looked up before the filter
// engages: the handler cannot allocate.
struct TrappedName {
  int number;
  char name[32];
};
std::array<TrappedName, 128> trapped_names{};

void remember_trapped_names() {
  std::size_t count = 0;
  for (const char* name : trapped_syscall_names()) {
    int number = ::seccomp_syscall_resolve_name(name);
    if (number < 0 || count == trapped_names.size()) continue;
    trapped_names[count].number = number;
    std::snprintf(trapped_names[count].name, sizeof trapped_names[count].name, "%s", name);
    ++count;
  }
}

const char* trapped_name(int number) {
  for (const TrappedName& entry : trapped_names) {
    if (entry.name[0] && entry.number == number) return entry.name;
  }
  return nullptr;
}

// Appends `value` in decimal; for the signal handler, which cannot allocate.
char* append_number(char* at, unsigned value) {
  char digits[16];
  int count = 0;
  do {
    digits[count++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value);
  while (count) *at++ = digits[--count];
  return at;
}

// SIGSYS from the filter: the syscall was one the sandbox traps. The child
// tells the parent which, says so in its log, and dies.
void report_trap(int, siginfo_t* info, void*) {
  Channel* channel = trap_channel.load();
  if (channel && ::getpid() == trap_pid.load()) {
    channel->write_last_words(FrameKind::kSandboxed,
                              trapped_syscall(static_cast<std::uint32_t>(info->si_arch), info->si_syscall));
  }
  char line[256];
  char* at = line;
  auto put = [&at, &line](const char* text) {
    while (*text && at < line + sizeof line - 24) *at++ = *text++;
  };
  const char* name = trapped_name(info->si_syscall);
  put("procxy: ");
  put(side_name());
  put(": Options::sandbox killed this child: it called ");
  put(name ? name : "syscall");
  put(" (syscall ");
  at = append_number(at, static_cast<unsigned>(info->si_syscall));
  put("), which the sandbox does not allow");
  if (name) {
    put("; if the object must, add \"");
    put(name);
    put("\" to Options::sandbox.allow_syscalls");
  }
  *at++ = '\n';
  [[maybe_unused]] ssize_t written = ::write(STDERR_FILENO, line, static_cast<std::size_t>(at - line));
  _exit(kExitSandboxed);
}

// The files mapped into this process (its program and libraries): read
// again by the stack traces of exceptions thrown in the object.
std::set<std::string> mapped_files() {
  std::set<std::string> files;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::size_t path = line.find(" /");
    if (path != std::string::npos && line.find(" (deleted)") == std::string::npos) files.insert(line.substr(path + 1));
  }
  return files;
}

LandlockRules landlock_rules(const SandboxSetup& setup, const std::optional<SharedSetup>& shared) {
  LandlockRules rules;
  rules.network = setup.network;
  rules.exec = setup.exec;
  for (std::size_t i = 0; i < setup.read_only.size(); ++i) {
    rules.paths.push_back(
        {setup.read_only[i], PathRule::kRead, "Options::sandbox.read_only[" + std::to_string(i) + "]"});
  }
  for (std::size_t i = 0; i < setup.read_write.size(); ++i) {
    rules.paths.push_back(
        {setup.read_write[i], PathRule::kReadWrite, "Options::sandbox.read_write[" + std::to_string(i) + "]"});
  }
  // What the runtime itself opens once it serves.
  for (const std::string& file : mapped_files()) rules.paths.push_back({file, PathRule::kRead, ""});
  for (const char* file : {"/proc/self/maps", "/proc/self/auxv", "/proc/self/cmdline", "/usr/lib/debug"}) {
    rules.paths.push_back({file, PathRule::kRead, ""});
  }
  rules.paths.push_back({"/dev/null", PathRule::kReadWrite, ""});  // a shared child's spare descriptor
  // A shared child's idle exit takes its start lock again. It cannot
  // remove its socket: that would let it remove every shared child's of the
  // user; the next start replaces the stale file.
  if (shared) rules.paths.push_back({shared->lock, PathRule::kReadWrite, ""});
  return rules;
}

// A restriction this kernel lacks: an error, unless best_effort.
std::string lacking(const SandboxSetup& setup, const std::string& what) {
  if (!setup.best_effort) {
    throw Error(me() + ": cannot engage Options::sandbox: " + what +
                "; run the child on a kernel that has it, or set Options::sandbox.best_effort to start without it");
  }
  return what + ", passed over (best_effort)";
}

}  // namespace

void engage_sandbox(const SandboxSetup& setup, const std::optional<SharedSetup>& shared, Channel* report_to) {
  bool filter = seccomp_available();
  int abi = landlock_abi();
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    throw Error(me() + ": cannot engage Options::sandbox: prctl(PR_SET_NO_NEW_PRIVS): " + std::strerror(errno));
  }
  std::string paths = abi > 0 ? restrict_paths(landlock_rules(setup, shared), abi)
                              : lacking(setup,
                                        "this kernel has no Landlock (Linux 5.13 or later, with landlock "
                                        "among its LSMs), which confines the paths");
  std::string syscalls;
  if (filter) {
    remember_trapped_names();
    trap_channel.store(report_to);
    trap_pid.store(::getpid());
    struct sigaction trap {};
    trap.sa_sigaction = report_trap;
    trap.sa_flags = SA_SIGINFO;
    sigemptyset(&trap.sa_mask);
    sigaddset(&trap.sa_mask, SIGPIPE);  // a closed channel: the write fails, the child still exits with 73
    ::sigaction(SIGSYS, &trap, nullptr);
    syscalls = filter_syscalls({setup.network, setup.exec, abi, setup.allow_syscalls});
  } else {
    syscalls = lacking(setup, "this kernel cannot filter syscalls (seccomp-bpf with SIGSYS traps)");
  }
  log(LogCategory::kSandbox, "sandbox engaged: no_new_privs, %s, %s", paths.c_str(), syscalls.c_str());
}

}  // namespace procxy::detail
