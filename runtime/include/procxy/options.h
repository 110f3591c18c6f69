#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace procxy {

// Where a child's stdout and stderr go (Options::output). Whatever the mode,
// the child's stdout is line-buffered when it is not a terminal, so what it
// printed before a crash is not lost in its buffer.
class Output {
 public:
  // Receives one line of a child's output: `fd` is 1 (stdout) or 2 (stderr);
  // `line` is without its newline, and valid only during the call.
  using Callback = std::function<void(int fd, std::string_view line)>;
  enum class Mode { kInherit, kPrefix, kDiscard, kTo };

  // The default: the child writes to the parent's own stdout and stderr.
  static Output inherit() { return Output(Mode::kInherit, nullptr); }
  // Each line the child writes appears on the parent's stdout (or stderr) as
  // "[demo::Calculator 4242] line": the class and the child's pid.
  static Output prefix() { return Output(Mode::kPrefix, nullptr); }
  // The child's stdout and stderr go to /dev/null.
  static Output discard() { return Output(Mode::kDiscard, nullptr); }
  // `callback` gets each line. It runs on one runtime thread shared by all
  // children, one line at a time; the lines of one child's stdout (or stderr)
  // arrive in the order it wrote them. It must not block for long: it holds
  // up every child's output. An exception it throws is reported in procxy's
  // log and the line dropped. Throws std::invalid_argument if it is empty.
  static Output to(Callback callback) {
    if (!callback) throw std::invalid_argument("procxy: parent: Output::to() was given an empty callback");
    return Output(Mode::kTo, std::move(callback));
  }

  Output() = default;  // inherit()
  Mode mode() const { return mode_; }
  const Callback& callback() const { return callback_; }

 private:
  Output(Mode mode, Callback callback) : mode_(mode), callback_(std::move(callback)) {}

  Mode mode_ = Mode::kInherit;
  Callback callback_;
};

// How often procxy restarts a child that keeps dying (Options::restart, and
// the children of a pool): at most `max_restarts` restarts within any span of
// `within`; then it gives up, and every call fails with a ChildExitedError
// saying so. Each restart waits `backoff` first, doubled for each restart
// already made within `within`, up to 10 s.
struct RestartPolicy {
  int max_restarts = 5;
  std::chrono::milliseconds within{60'000};
  std::chrono::milliseconds backoff{100};
};

// Resource limits of a child. memory, cpu and open_files are set in the child
// before its main() runs (setrlimit); max_rss is checked by the parent after
// each call. Unset: no limit. Each failure they cause names the limit.
struct Limits {
  std::optional<std::uint64_t> memory;      // bytes of address space (RLIMIT_AS)
  std::optional<std::chrono::seconds> cpu;  // CPU time (RLIMIT_CPU)
  std::optional<int> open_files;            // file descriptors (RLIMIT_NOFILE)
  std::optional<std::uint64_t> max_rss;     // resident bytes after a call; over it, the child is replaced or ended
};

// What a sandboxed child may still do (Options::sandbox, docs/sandbox.md).
// The sandbox engages in the child after the constructor returned and before
// the first call: what the constructor opened stays usable. Then a denied
// open or socket fails with EACCES or EPERM in the object's code, and a
// dangerous syscall (ptrace, mount, bpf, ...) kills the child; the parent's
// ChildExitedError names the syscall.
struct Sandbox {
  bool enabled = false;
  std::vector<std::filesystem::path> read_only;   // files and trees the object may read (absolute)
  std::vector<std::filesystem::path> read_write;  // and write (absolute)
  bool network = false;                           // may create sockets other than its channel
  bool exec = false;                              // may execve
  std::vector<std::string> allow_syscalls;        // extra syscalls, by name ("ptrace")
  bool best_effort = false;                       // start even where the kernel lacks a restriction
};

// How a child is started and how calls to it behave. Every field has a
// default; set only what you need.
struct Options {
  std::vector<std::string> args;                // extra argv for the child
  std::map<std::string, std::string> env;       // set in the child's environment
  bool inherit_env = true;                      // start from the parent's environment
  std::filesystem::path cwd;                    // empty: the parent's
  std::filesystem::path executable;             // empty: this program, re-executed
  std::chrono::milliseconds timeout{30'000};    // per attempt; zero: none
  int retries = 3;                              // extra attempts for queries
  bool kill_on_timeout = false;                 // kill the child when a call times out
  bool restart = false;                         // respawn a child that died, on next use
  int concurrency = 1;                          // calls executing at once in the child
  bool dedupe = true;                           // identical spawns share one child
  bool coalesce = true;                         // identical in-flight queries share one request
  std::chrono::milliseconds idle_exit{10'000};  // attach(): a shared child with no client exits after this
  Output output = Output::inherit();            // where the child's stdout and stderr go (docs/options.md)
  RestartPolicy restart_policy;                 // how often a child that keeps dying is restarted
  Limits limits;                                // resource limits of the child (docs/options.md)
  // A command prefix that starts the child, perhaps on another machine:
  // {"ssh", "-T", "-o", "BatchMode=yes", "host", "--"}; empty: none
  // (docs/remote.md). The child's stdin and stdout become its channel.
  std::vector<std::string> launcher;
  std::chrono::milliseconds heartbeat{5'000};  // with a launcher: a link silent for 3 of these is lost; zero: none
  Sandbox sandbox;                             // what the child may do once it serves (docs/sandbox.md)
};

// How a pool of children starts and spreads calls (procxy::pool(), docs/pools.md).
struct PoolOptions {
  Options child;                // how each child starts and how calls behave
  int size = 0;                 // children kept running; 0: std::thread::hardware_concurrency()
  std::uint64_t max_calls = 0;  // replace a child after it served this many calls; 0: never
  // Child i starts through launchers[i % launchers.size()] (its replacement
  // too): a pool over several machines. Empty: child.launcher for each.
  std::vector<std::vector<std::string>> launchers;
};

// Per-call overrides, given with Proxy::with().
// The default member initializers let p.with({.timeout = 2s}) name only what
// it sets, warning-free under -Wextra.
struct CallOptions {
  std::optional<std::chrono::milliseconds> timeout{};  // replaces Options::timeout
  std::stop_token stop{};                              // cancels this caller's wait
  std::optional<bool> coalesce{};                      // per-call override
};

}  // namespace procxy
