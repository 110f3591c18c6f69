#pragma once

#include <chrono>
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
