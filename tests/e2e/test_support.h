#pragma once

// What the e2e tests share: sanitizer-aware load sizes and time bounds, and
// process checks.

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <barrier>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace e2e {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

// Sanitized builds run 5-15x slower, and more under a loaded machine: load
// tests do a tenth of the work there, and time bounds stretch twentyfold, to
// catch hangs only. Unsanitized runs hold the real numbers.
inline constexpr std::size_t scaled(std::size_t count) { return kSanitized ? count / 10 : count; }
inline constexpr std::chrono::milliseconds bound(std::chrono::milliseconds limit) {
  return kSanitized ? limit * 20 : limit;
}

// A directory of its own under the temporary directory, removed with what
// it holds.
struct TempDir {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("procxy-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(++count));
  TempDir() { std::filesystem::create_directories(path); }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
  static inline int count = 0;
};

// The what() of the exception `call` throws; "(no exception)" when none.
inline std::string message_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

// True while a process with this pid exists (a zombie counts).
inline bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0; }

// True while a process with this pid exists and has not exited. A shared
// child is not ours: once dead it may stay a zombie until whoever adopted it
// reaps it.
inline bool process_running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  auto state = line.rfind(") ");
  return state != std::string::npos && line[state + 2] != 'Z' && line[state + 2] != 'X';
}

// True once every thread of process `pid` is stopped (SIGSTOP): kill()
// returns before the kernel has stopped threads running on other CPUs.
inline bool all_threads_stopped(pid_t pid) {
  std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  bool any = false;
  for (const auto& task : std::filesystem::directory_iterator(tasks)) {
    std::ifstream stat(task.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;  // a thread that just ended
    auto state = line.rfind(") ");
    if (state == std::string::npos || line[state + 2] != 'T') return false;
    any = true;
  }
  return any;
}

// Polls `done` every 5 ms until it returns true (then true) or `limit` has
// passed (then false).
template <class F>
bool eventually(F done, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Runs `call(i)` for i in [0, count) on `count` threads released at the same instant.
template <class F>
void at_once(int count, F call) {
  std::barrier start(count);
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      call(i);
    });
  }
  for (auto& thread : threads) thread.join();
}

// Runs a shell command; returns its stdout (and stderr, with 2>&1 in it) and
// sets `status` to what pclose() says.
inline std::string output_of(const std::string& command, int& status) {
  FILE* out = ::popen(command.c_str(), "r");
  if (!out) {
    status = -1;
    return {};
  }
  std::string text;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, out)) text += buffer;
  status = ::pclose(out);
  return text;
}

}  // namespace e2e
