#pragma once

#include <procxy/annotate.h>

#include <chrono>
#include <cstdint>
#include <thread>

namespace bench {

class PROCXY_REMOTE Adder {
 public:
  int add(int a, int b) { return a + b; }
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
