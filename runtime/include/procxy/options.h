#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

namespace procxy {

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
