#include "services/options_check.h"

#include <seccomp.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace procxy::detail {
namespace {

// Printable: a value may hold any byte, and the message is for a terminal.
std::string printable(std::string_view value) {
  std::string result = "\"";
  for (char c : value) {
    if (c == '\0') {
      result += "\\0";
    } else if (c == '"' || c == '\\') {
      result += '\\';
      result += c;
    } else {
      result += c;
    }
  }
  return result + "\"";
}

[[noreturn]] void reject(const char* function, const std::string& field, const std::string& problem) {
  throw std::invalid_argument("procxy: parent: " + std::string(function) + "(): Options::" + field + " " + problem);
}

void check_env(const Options& options, const char* function) {
  for (const auto& [name, value] : options.env) {
    std::string field = "env[" + printable(name) + "]";
    if (name.empty()) reject(function, "env", "has an empty variable name; give each variable a name");
    if (name.find('=') != std::string::npos) {
      reject(function, field,
             "names a variable with '=' in its name, which the child would read as \"NAME=VALUE\"; the name ends "
             "before the '=' (put what follows in the value)");
    }
    if (name.find('\0') != std::string::npos) reject(function, field, "names a variable with a NUL byte in its name");
    if (value.find('\0') != std::string::npos) {
      reject(function, field,
             "is " + printable(value) + ", which holds a NUL byte; the child would see only what precedes it");
    }
    if (name.rfind("PROCXY_", 0) == 0) {
      reject(function, field,
             "is a name procxy reserves (PROCXY_*): it would change how the child talks to this parent; to debug "
             "the child, set PROCXY_DEBUG in this process's environment, which children inherit");
    }
  }
}

void check_args(const Options& options, const char* function) {
  for (std::size_t i = 0; i < options.args.size(); ++i) {
    if (options.args[i].find('\0') != std::string::npos) {
      reject(
          function, "args[" + std::to_string(i) + "]",
          "is " + printable(options.args[i]) + ", which holds a NUL byte; the child would see only what precedes it");
    }
  }
}

void check_numbers(const Options& options, const char* function) {
  if (options.timeout.count() < 0) {
    reject(function, "timeout",
           "is " + std::to_string(options.timeout.count()) + " ms; it must be positive, or zero for no limit");
  }
  if (options.idle_exit.count() < 0) {
    reject(function, "idle_exit",
           "is " + std::to_string(options.idle_exit.count()) +
               " ms; it must be zero or more (zero: a shared child exits as soon as it has no client)");
  }
  if (options.retries < 0) {
    reject(
        function, "retries",
        "is " + std::to_string(options.retries) + "; it counts the extra attempts of a query, so it must be 0 or more");
  }
  if (options.concurrency < 1) {
    reject(function, "concurrency",
           "is " + std::to_string(options.concurrency) +
               "; it counts the calls a child runs at once, so it must be at least 1");
  }
}

void check_restart_policy(const Options& options, const char* function) {
  const RestartPolicy& policy = options.restart_policy;
  if (policy.max_restarts < 0) {
    reject(function, "restart_policy.max_restarts",
           "is " + std::to_string(policy.max_restarts) + "; it must be 0 (never restart) or more");
  }
  if (policy.within.count() <= 0) {
    reject(function, "restart_policy.within",
           "is " + std::to_string(policy.within.count()) +
               " ms; it is the window in which restarts are counted, so it must be positive");
  }
  if (policy.backoff.count() < 0) {
    reject(function, "restart_policy.backoff",
           "is " + std::to_string(policy.backoff.count()) + " ms; it must be zero (no wait) or more");
  }
}

// A limit of zero would stop the child before it could serve; an unset one
// is no limit.
void check_limits(const Options& options, const char* function) {
  const Limits& limits = options.limits;
  if (limits.memory && *limits.memory == 0) {
    reject(function, "limits.memory",
           "is 0 bytes; give the child's address space in bytes (well above what it maps at start, e.g. 512 MiB), "
           "or leave it unset for no limit");
  }
  if (limits.cpu && limits.cpu->count() <= 0) {
    reject(function, "limits.cpu",
           "is " + std::to_string(limits.cpu->count()) +
               " s; give the child's CPU time in seconds (at least 1), or leave it unset for no limit");
  }
  if (limits.open_files && *limits.open_files <= 0) {
    reject(function, "limits.open_files",
           "is " + std::to_string(*limits.open_files) +
               "; the child needs file descriptors for its channel and stdio, so give a count well above 8, or "
               "leave it unset for no limit");
  }
  if (limits.max_rss && *limits.max_rss == 0) {
    reject(function, "limits.max_rss",
           "is 0 bytes; give the child's resident size in bytes, or leave it unset for no limit");
  }
}

const char* name_of(Output::Mode mode) {
  switch (mode) {
    case Output::Mode::kInherit:
      return "Output::inherit()";
    case Output::Mode::kPrefix:
      return "Output::prefix()";
    case Output::Mode::kDiscard:
      return "Output::discard()";
    case Output::Mode::kTo:
      return "Output::to(callback)";
  }
  return "an unknown Output";
}

// A shared child outlives its starter and serves other processes: its
// output cannot go to the one that happened to start it.
void check_output(const Options& options, const char* function) {
  if (std::string_view(function) != "attach" || options.output.mode() == Output::Mode::kInherit) return;
  reject(function, "output",
         std::string("is ") + name_of(options.output.mode()) +
             ", but a shared child's stdout and stderr go to its log file (<name>.log in procxy's runtime "
             "directory, docs/shared-children.md), not to the process that started it; leave Options::output "
             "at Output::inherit() for attach()");
}

void check_launcher(const Options& options, const char* function) {
  if (options.heartbeat.count() < 0) {
    reject(function, "heartbeat",
           "is " + std::to_string(options.heartbeat.count()) +
               " ms; it must be positive, or zero for no heartbeats (then only a closed link is noticed)");
  }
  if (options.launcher.empty()) return;
  for (std::size_t i = 0; i < options.launcher.size(); ++i) {
    if (options.launcher[i].find('\0') != std::string::npos) {
      reject(function, "launcher[" + std::to_string(i) + "]",
             "is " + printable(options.launcher[i]) +
                 ", which holds a NUL byte; the launcher would see only what precedes it");
    }
  }
  if (options.launcher.front().empty()) {
    reject(function, "launcher[0]", "is empty; it names the program that starts the child, such as \"ssh\"");
  }
  if (std::string_view(function) == "attach") {
    reject(function, "launcher",
           "is set, but a shared child is found through a socket on this machine, which a child on another "
           "machine cannot listen on; use spawn() with a launcher, or attach() without one");
  }
  if (options.limits.max_rss) {
    reject(function, "limits.max_rss",
           "is set with Options::launcher, but the parent reads a child's resident memory on its own machine; "
           "use Options::limits.memory, which the child sets on itself, or a launcher's own limit "
           "(systemd-run -p MemoryMax=..., srun --mem=...)");
  }
}

void check_sandbox(const Options& options, const char* function) {
  const Sandbox& sandbox = options.sandbox;
  if (!sandbox.enabled) {
    bool rules = !sandbox.read_only.empty() || !sandbox.read_write.empty() || sandbox.network || sandbox.exec ||
                 !sandbox.allow_syscalls.empty() || sandbox.best_effort;
    if (rules) {
      reject(function, "sandbox",
             "has rules but not enabled = true, so the child would run unconfined; set Options::sandbox.enabled");
    }
    return;
  }
  auto check_paths = [&](const std::vector<std::filesystem::path>& paths, const char* name) {
    for (std::size_t i = 0; i < paths.size(); ++i) {
      std::string field = "sandbox." + std::string(name) + "[" + std::to_string(i) + "]";
      const std::string& path = paths[i].native();
      if (path.find('\0') != std::string::npos) {
        reject(function, field, "is " + printable(path) + ", which holds a NUL byte");
      }
      if (!paths[i].is_absolute()) {
        reject(function, field,
               "is the relative path " + printable(path) +
                   "; give an absolute one (the child's directory may not be the parent's)");
      }
    }
  };
  check_paths(sandbox.read_only, "read_only");
  check_paths(sandbox.read_write, "read_write");
  for (std::size_t i = 0; i < sandbox.allow_syscalls.size(); ++i) {
    const std::string& name = sandbox.allow_syscalls[i];
    // Negative: a name libseccomp knows on other architectures only (socketcall on x86-64).
    if (name.find('\0') != std::string::npos || ::seccomp_syscall_resolve_name(name.c_str()) < 0) {
      reject(function, "sandbox.allow_syscalls[" + std::to_string(i) + "]",
             "is " + printable(name) +
                 ", which is not a syscall of this machine; name it as in syscalls(2), "
                 "such as \"ptrace\"");
    }
  }
}

// Relative to the program, not to the current directory: an application
// and its agents are installed side by side, and the program may be started
// from anywhere.
std::filesystem::path absolute_executable(const std::filesystem::path& executable, const char* function) {
  if (executable.empty() || executable.is_absolute()) return executable;
  std::error_code error;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) {
    reject(function, "executable",
           "is the relative path " + printable(executable.native()) +
               ", and the directory of this program, which it is "
               "relative to, cannot be found (/proc/self/exe: " +
               error.message() + "); give an absolute path");
  }
  return (self.parent_path() / executable).lexically_normal();
}

// PROCXY_SANDBOX=1 (docs/sandbox.md): every child this process starts
// without Options::sandbox gets one that reads everything and writes only
// the temporary directory, to try a program (or a test suite) under the
// syscall filter without changing its code.
void sandbox_all(Options& options) {
  const char* all = std::getenv("PROCXY_SANDBOX");
  if (!all || std::string_view(all) != "1" || options.sandbox.enabled) return;
  options.sandbox.enabled = true;
  options.sandbox.read_only = {"/"};
  options.sandbox.read_write = {std::filesystem::temp_directory_path()};
}

}  // namespace

Options checked(const Options& options, const char* function) {
  check_env(options, function);
  check_args(options, function);
  check_numbers(options, function);
  check_limits(options, function);
  check_output(options, function);
  check_restart_policy(options, function);
  check_launcher(options, function);
  check_sandbox(options, function);
  Options result = options;
  sandbox_all(result);
  // With a launcher, the executable is named as it is on the other machine.
  if (options.launcher.empty()) result.executable = absolute_executable(options.executable, function);
  return result;
}

PoolOptions checked(const PoolOptions& options) {
  if (options.size < 0) {
    throw std::invalid_argument("procxy: parent: pool(): PoolOptions::size is " + std::to_string(options.size) +
                                "; it counts the children, so it must be 1 or more, or 0 for one per CPU");
  }
  PoolOptions result = options;
  result.child = checked(options.child, "pool");
  for (const std::vector<std::string>& launcher : options.launchers) {
    Options through = options.child;
    through.launcher = launcher;
    if (launcher.empty()) {
      throw std::invalid_argument(
          "procxy: parent: pool(): PoolOptions::launchers holds an empty launcher; give each a command "
          "prefix such as {\"ssh\", \"-T\", \"host\", \"--\"}, or leave launchers empty");
    }
    checked(through, "pool");
  }
  return result;
}

}  // namespace procxy::detail
