#include "pool_worker.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace e2e {

Worker::Worker(const std::string& journal, const std::string& crash_marker) {
  if (!journal.empty()) {
    auto now = std::chrono::steady_clock::now().time_since_epoch();
    std::ofstream(journal, std::ios::app) << std::chrono::duration_cast<std::chrono::microseconds>(now).count() << "\n";
  }
  if (!crash_marker.empty() && std::filesystem::exists(crash_marker)) ::_exit(3);
}

std::int32_t Worker::pid_after(int ms) const {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ::getpid();
}

std::int32_t Worker::pid_after_mutation(int ms) { return pid_after(ms); }

std::uint64_t Worker::spin(int us) const {
  auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
  std::uint64_t sum = 0;
  while (std::chrono::steady_clock::now() < end) {
    for (std::uint64_t i = 0; i < 1000; ++i) sum = sum * 6364136223846793005ULL + i;
  }
  return sum;
}

std::int32_t Worker::grow(std::uint64_t bytes) {
  held_.emplace_back(bytes, '\1');  // every page written: resident
  return ::getpid();
}

void Worker::exit_now(int code) { ::_exit(code); }

int Worker::job(int steps) {
  for (int i = 1; i <= steps; ++i) progress(::getpid(), i, steps);
  return steps;
}

}  // namespace e2e
