#pragma once

#include <procxy/annotate.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace bench {

// The calls the comparison makes: bench/capnp_bench.capnp is the same
// interface for Cap'n Proto RPC.
class PROCXY_REMOTE Service {
 public:
  int add(int a, int b) { return a + b; }
  std::string echo(const std::string& text) { return text; }
  std::vector<std::byte> mirror(const std::vector<std::byte>& data) { return data; }
  // Emits tick(i) for i in [0, count): an event stream.
  void ticks(int count) {
    for (int i = 0; i < count; ++i) tick(i);
  }
  PROCXY_EVENT void tick(int value);
};

// A query that takes a while (a lookup elsewhere, say), counting its runs.
class PROCXY_REMOTE Directory {
 public:
  PROCXY_QUERY int lookup(int key) const {
    ++lookups_;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
    return key + 1;
  }
  std::int64_t lookups() const { return lookups_; }

 private:
  mutable std::int64_t lookups_ = 0;
};

}  // namespace bench
