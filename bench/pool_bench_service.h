#pragma once

// What pool_bench runs in a pool's children: CPU work, a call that does
// nothing, and a wait.

#include <procxy/annotate.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <thread>

namespace bench {

class PROCXY_REMOTE Cruncher {
 public:
  // Arithmetic for `us` microseconds of the child's time; returns a checksum.
  PROCXY_QUERY std::uint64_t crunch(int us) const {
    auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
    std::uint64_t sum = 0;
    while (std::chrono::steady_clock::now() < end) {
      for (std::uint64_t i = 0; i < 1000; ++i) sum = sum * 6364136223846793005ULL + i;
    }
    return sum;
  }
  PROCXY_QUERY int nothing() const { return 1; }
  // Sleeps `ms`, returns the child's pid.
  PROCXY_QUERY std::int32_t wait(int ms) const {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return ::getpid();
  }
  std::int32_t wait_mutation(int ms) { return wait(ms); }
};

}  // namespace bench
