// The pool example: a CPU-heavy job (counting the primes below 5,000,000)
// cut into chunks and spread over a pool of children, one per CPU, with a
// progress event from each chunk. The main process stays free, and a child
// that crashed would be replaced and its chunk run again.

#include <chrono>
#include <cstdio>
#include <future>
#include <vector>

#include "primes.procxy.h"

int main(int argc, char** argv) {
  procxy::serve_if_child(argc, argv);

  constexpr std::uint64_t kLimit = 5'000'000;
  constexpr std::uint64_t kChunks = 16;
  constexpr std::uint64_t kExpected = 348'513;  // primes below 5,000,000

  procxy::PoolOptions options;  // size 0: one child per CPU
  auto pool = procxy::pool<demo::Primes>(options);
  std::printf("pool of %d children\n", pool.size());
  auto progress = pool.on(&demo::Primes::progress, [](std::uint64_t from, int percent) {
    if (percent >= 100) std::printf("  chunk from %llu done\n", static_cast<unsigned long long>(from));
  });

  auto start = std::chrono::steady_clock::now();
  std::vector<std::future<std::uint64_t>> chunks;
  for (std::uint64_t i = 0; i < kChunks; ++i) {
    chunks.push_back(pool.async()->count(kLimit * i / kChunks, kLimit * (i + 1) / kChunks));
  }
  std::uint64_t total = 0;
  for (auto& chunk : chunks) total += chunk.get();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();

  std::printf("%llu primes below %llu in %lld ms\n", static_cast<unsigned long long>(total),
              static_cast<unsigned long long>(kLimit), static_cast<long long>(ms));
  return total == kExpected ? 0 : 1;
}
