#include "child/syscall_filter.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <string>

#include "procxy/errors.h"
#include "side.h"

namespace procxy::detail {
namespace {

// Memory, threads, futexes, clocks, signals to itself, and reads and writes
// on descriptors the process holds. Opens are allowed here and confined by
// Landlock to the sandbox's paths.
constexpr const char* kAllowed[] = {
    // descriptors it holds
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "preadv",
    "pwritev",
    "preadv2",
    "pwritev2",
    "close",
    "close_range",
    "lseek",
    "_llseek",
    "dup",
    "dup2",
    "dup3",
    "flock",
    "fsync",
    "fdatasync",
    "ftruncate",
    "ftruncate64",
    "fallocate",
    "sendfile",
    "sendfile64",
    "splice",
    "tee",
    "copy_file_range",
    "pipe",
    "pipe2",
    "eventfd",
    "eventfd2",
    "poll",
    "ppoll",
    "ppoll_time64",
    "select",
    "_newselect",
    "pselect6",
    "pselect6_time64",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "memfd_create",
    "fadvise64",
    "readahead",
    // its channel and the sockets it was given (a shared child accepts clients)
    "sendto",
    "sendmsg",
    "sendmmsg",
    "recvfrom",
    "recvmsg",
    "recvmmsg",
    "recvmmsg_time64",
    "shutdown",
    "getsockopt",
    "setsockopt",
    "getsockname",
    "getpeername",
    "accept",
    "accept4",
    // files, confined by Landlock
    "open",
    "openat",
    "openat2",
    "creat",
    "stat",
    "lstat",
    "fstat",
    "stat64",
    "lstat64",
    "fstat64",
    "newfstatat",
    "fstatat64",
    "statx",
    "statfs",
    "fstatfs",
    "statfs64",
    "fstatfs64",
    "access",
    "faccessat",
    "faccessat2",
    "readlink",
    "readlinkat",
    "getdents",
    "getdents64",
    "getcwd",
    "chdir",
    "fchdir",
    "mkdir",
    "mkdirat",
    "rmdir",
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "umask",
    // memory
    "brk",
    "mmap",
    "mmap2",
    "munmap",
    "mremap",
    "mprotect",
    "madvise",
    "msync",
    "mincore",
    "membarrier",
    "mlock",
    "mlock2",
    "munlock",
    "get_mempolicy",
    // threads and processes of its own
    "futex",
    "futex_time64",
    "futex_waitv",
    "set_robust_list",
    "get_robust_list",
    "rseq",
    "set_tid_address",
    "gettid",
    "getpid",
    "getppid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getgroups",
    "getresuid",
    "getresgid",
    "getpgrp",
    "getpgid",
    "getsid",
    "sched_yield",
    "sched_getaffinity",
    "sched_getparam",
    "sched_getscheduler",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "getpriority",
    "getrlimit",
    "ugetrlimit",
    "getrusage",
    "sysinfo",
    "uname",
    "times",
    "getcpu",
    "exit",
    "exit_group",
    "wait4",
    "waitid",
    "arch_prctl",
    "set_thread_area",
    "get_thread_area",
    "restart_syscall",
    "getrandom",
    // clocks and timers
    "clock_gettime",
    "clock_gettime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "nanosleep",
    "gettimeofday",
    "time",
    "timer_create",
    "timer_settime",
    "timer_settime64",
    "timer_gettime",
    "timer_gettime64",
    "timer_getoverrun",
    "timer_delete",
    "timerfd_create",
    "timerfd_settime",
    "timerfd_settime64",
    "timerfd_gettime",
    "timerfd_gettime64",
    "alarm",
    "setitimer",
    "getitimer",
    // signals
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "sigreturn",
    "rt_sigpending",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_sigsuspend",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "pause",
};

// What only a compromised object calls, to escape or to reach beyond its
// process: SIGSYS, which kills the child, and the parent names the syscall.
constexpr const char* kTrapped[] = {
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_getfd",
    "process_madvise",
    "kcmp",
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "chroot",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
    "swapon",
    "swapoff",
    "reboot",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "bpf",
    "unshare",
    "setns",
    "open_by_handle_at",
    "name_to_handle_at",
    "iopl",
    "ioperm",
    "acct",
    "quotactl",
    "settimeofday",
    "clock_settime",
    "clock_settime64",
    "clock_adjtime",
    "clock_adjtime64",
    "adjtimex",
    "sethostname",
    "setdomainname",
    "lookup_dcookie",
    "vhangup",
    "modify_ldt",
    "uselib",
    "nfsservctl",
    "_sysctl",
    "syslog",
};

// What ordinary libraries probe for and do without (libuv tries io_uring,
// profilers perf events, Kerberos the keyring): ENOSYS, as on a kernel
// without them, rather than a kill.
constexpr const char* kAbsent[] = {
    "io_uring_setup", "io_uring_enter", "io_uring_register", "perf_event_open", "userfaultfd",
    "keyctl",         "add_key",        "request_key",       "personality",
};

// With `network`: sockets of the internet families (socket() is limited to
// them below: a unix socket could reach the user's session bus or agents).
constexpr const char* kNetwork[] = {"connect", "bind", "listen"};
constexpr int kNetworkFamilies[] = {AF_INET, AF_INET6};
// With `exec`: new programs, and new processes (without it only threads:
// a process forked from the object would outlive the child).
constexpr const char* kExec[] = {"execve", "execveat", "fork", "vfork"};

// ioctls on descriptors it holds that the runtime and the C library use:
// bytes waiting, non-blocking and close-on-exec flags, and isatty().
constexpr unsigned long kIoctls[] = {FIONREAD, FIONBIO, FIOCLEX, FIONCLEX, TCGETS, TIOCGWINSZ};
// fcntl commands on descriptors it holds; not F_SETOWN or F_SETSIG, which
// would have the kernel signal another process.
constexpr int kFcntls[] = {F_DUPFD,  F_DUPFD_CLOEXEC, F_GETFD,      F_SETFD,     F_GETFL,     F_SETFL,
                           F_GETLK,  F_SETLK,         F_SETLKW,     F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW,
                           F_GETOWN, F_GETPIPE_SZ,    F_SETPIPE_SZ, F_ADD_SEALS, F_GET_SEALS};
// prctl options of ordinary code: thread names, and asking about itself.
constexpr int kPrctls[] = {PR_SET_NAME,         PR_GET_NAME,    PR_GET_DUMPABLE, PR_GET_NO_NEW_PRIVS,
                           PR_SET_NO_NEW_PRIVS, PR_GET_SECCOMP, PR_CAPBSET_READ};
// Namespaces are for a process that is not sandboxed.
constexpr std::uint64_t kNewNamespaces =
    CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;
// A thread: what clone() makes without `exec`.
constexpr std::uint64_t kThread = CLONE_VM | CLONE_THREAD;

// Arguments compared with `mask` must equal `value`.
scmp_arg_cmp arg_masked(unsigned arg, std::uint64_t mask, std::uint64_t value) {
  return {arg, SCMP_CMP_MASKED_EQ, mask, value};
}

std::string me() { return std::string("procxy: ") + side_name(); }

// libseccomp's SCMP_A<n> macros are compound literals, which clang's
// -Wextra flags in C++.
scmp_arg_cmp arg_equals(unsigned arg, std::uint64_t value) { return {arg, SCMP_CMP_EQ, value, 0}; }

class Filter {
 public:
  explicit Filter(const FilterRules& rules) : rules_(rules), context_(::seccomp_init(SCMP_ACT_ERRNO(EPERM))) {
    if (!context_) fail("seccomp_init failed", 0);
  }
  ~Filter() { ::seccomp_release(context_); }
  Filter(const Filter&) = delete;
  Filter& operator=(const Filter&) = delete;

  // `action` for `name`, with conditions; nothing for a syscall this
  // architecture lacks, or for one that allow_syscalls allows outright.
  void add(std::uint32_t action, const char* name, std::initializer_list<scmp_arg_cmp> conditions = {}) {
    if (std::find(rules_.allow.begin(), rules_.allow.end(), name) != rules_.allow.end()) return;
    add_rule(action, name, conditions);
  }
  void add_allowed_by_user() {
    for (const std::string& name : rules_.allow) add_rule(SCMP_ACT_ALLOW, name.c_str(), {});
  }

  void load() {
    // Every thread of the process, not only this one.
    if (int result = ::seccomp_attr_set(context_, SCMP_FLTATR_CTL_TSYNC, 1); result != 0) {
      fail("seccomp_attr_set(TSYNC)", -result);
    }
    // A syscall of another ABI (int 0x80 on x86-64) kills the process, as
    // the trapped ones do, rather than only its thread.
    if (int result = ::seccomp_attr_set(context_, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP); result != 0) {
      fail("seccomp_attr_set(ACT_BADARCH)", -result);
    }
    // A binary search over syscall numbers rather than a list of 250
    // comparisons (libseccomp 2.5).
    ::seccomp_attr_set(context_, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (int result = ::seccomp_load(context_); result == -ESRCH) {
      throw Error(me() +
                  ": cannot engage Options::sandbox: a thread of this process has a seccomp filter of its "
                  "own, so one filter cannot be given to all of them; leave the object's threads unfiltered "
                  "(the sandbox filters them)");
    } else if (result != 0) {
      fail("seccomp_load", -result);
    }
  }

 private:
  void add_rule(std::uint32_t action, const char* name, std::initializer_list<scmp_arg_cmp> conditions) {
    int number = ::seccomp_syscall_resolve_name(name);
    if (number == __NR_SCMP_ERROR || number < 0) return;
    int result = ::seccomp_rule_add_array(context_, action, number, static_cast<unsigned>(conditions.size()),
                                          conditions.begin());
    if (result != 0) fail(std::string("seccomp_rule_add(") + name + ")", -result);
  }

  [[noreturn]] void fail(const std::string& what, int error) const {
    throw Error(me() + ": cannot engage Options::sandbox: " + what +
                (error ? std::string(": ") + std::strerror(error) : "") + " (the kernel refused the syscall filter)");
  }

  const FilterRules& rules_;
  scmp_filter_ctx context_;
};

}  // namespace

std::vector<const char*> trapped_syscall_names() { return {std::begin(kTrapped), std::end(kTrapped)}; }

bool seccomp_available() {
  // Level 2 and up: filters can be loaded, trap with SIGSYS, and sync threads.
  return ::seccomp_api_get() >= 2;
}

std::string filter_syscalls(const FilterRules& rules) {
  Filter filter(rules);
  for (const char* name : kAllowed) filter.add(SCMP_ACT_ALLOW, name);
  for (const char* name : kTrapped) filter.add(SCMP_ACT_TRAP, name);
  for (const char* name : kAbsent) filter.add(SCMP_ACT_ERRNO(ENOSYS), name);
  // Sockets among its own threads, connected to nothing else.
  filter.add(SCMP_ACT_ALLOW, "socketpair", {arg_equals(0, AF_UNIX)});
  if (rules.network) {
    for (const char* name : kNetwork) filter.add(SCMP_ACT_ALLOW, name);
    for (int family : kNetworkFamilies) {
      filter.add(SCMP_ACT_ALLOW, "socket", {arg_equals(0, static_cast<std::uint64_t>(family))});
    }
  }
  if (rules.exec) {
    for (const char* name : kExec) filter.add(SCMP_ACT_ALLOW, name);
    filter.add(SCMP_ACT_ALLOW, "clone", {arg_masked(0, kNewNamespaces, 0)});
  } else {
    filter.add(SCMP_ACT_ALLOW, "clone", {arg_masked(0, kNewNamespaces | kThread, kThread)});
  }
  // Landlock confines truncation from ABI 3 on; before, only by descriptor.
  if (rules.landlock_abi >= 3) {
    filter.add(SCMP_ACT_ALLOW, "truncate");
    filter.add(SCMP_ACT_ALLOW, "truncate64");
  }
  // Timestamps by descriptor only (futimens): Landlock does not confine them by path.
  filter.add(SCMP_ACT_ALLOW, "utimensat", {arg_equals(1, 0)});
  for (int command : kFcntls) {
    filter.add(SCMP_ACT_ALLOW, "fcntl", {arg_equals(1, static_cast<std::uint64_t>(command))});
    filter.add(SCMP_ACT_ALLOW, "fcntl64", {arg_equals(1, static_cast<std::uint64_t>(command))});
  }
  // glibc's pthread_create and posix_spawn try clone3 first, and take clone,
  // whose flags the filter can read, when it is not there.
  filter.add(SCMP_ACT_ERRNO(ENOSYS), "clone3");
  for (unsigned long request : kIoctls) filter.add(SCMP_ACT_ALLOW, "ioctl", {arg_equals(1, request)});
  for (int option : kPrctls) filter.add(SCMP_ACT_ALLOW, "prctl", {arg_equals(0, static_cast<std::uint64_t>(option))});
  // Signals and limits for itself only.
  auto self = static_cast<std::uint64_t>(::getpid());
  filter.add(SCMP_ACT_ALLOW, "kill", {arg_equals(0, self)});
  filter.add(SCMP_ACT_ALLOW, "tgkill", {arg_equals(0, self)});
  filter.add(SCMP_ACT_ALLOW, "rt_sigqueueinfo", {arg_equals(0, self)});
  filter.add(SCMP_ACT_ALLOW, "rt_tgsigqueueinfo", {arg_equals(0, self)});
  filter.add(SCMP_ACT_ALLOW, "prlimit64", {arg_equals(0, 0)});
  filter.add(SCMP_ACT_ALLOW, "prlimit64", {arg_equals(0, self)});
  filter.add_allowed_by_user();
  filter.load();
  std::string engaged = "seccomp filter (";
  engaged += rules.network ? "sockets allowed" : "no new sockets";
  engaged += rules.exec ? ", execve allowed" : ", no execve";
  if (!rules.allow.empty()) engaged += ", " + std::to_string(rules.allow.size()) + " syscall(s) added";
  return engaged + ")";
}

}  // namespace procxy::detail
