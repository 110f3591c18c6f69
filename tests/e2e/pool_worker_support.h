#pragma once

// What the max_rss tests measure a limit from: a Worker's resident memory
// before it does anything, which sanitizers multiply.

#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "pool_worker.procxy.h"

namespace e2e {

inline std::uint64_t resident_bytes_of_a_worker() {
  procxy::Options options;
  options.dedupe = false;
  auto probe = procxy::spawn<Worker>(options, "", "");
  std::ifstream statm("/proc/" + std::to_string(probe.pid()) + "/statm");
  std::uint64_t size = 0;
  std::uint64_t resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace e2e
