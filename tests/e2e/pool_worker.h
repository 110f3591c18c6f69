#pragma once

// The class the pool, restart-policy and max_rss tests run: work that takes
// time or memory, a crash, and a constructor that can be made to fail.

#include <procxy/annotate.h>

#include <cstdint>
#include <string>
#include <vector>

namespace e2e {

class PROCXY_REMOTE Worker {
 public:
  // Appends the time it starts (steady clock, in microseconds) to `journal`
  // when it is not empty, then exits the process with code 3 if the file
  // `crash_marker` exists: a constructor that crash-loops on demand.
  Worker(const std::string& journal, const std::string& crash_marker);

  PROCXY_QUERY std::int32_t pid_after(int ms) const;  // sleeps `ms`, returns its process id
  std::int32_t pid_after_mutation(int ms);            // the same, not a query
  PROCXY_QUERY std::uint64_t spin(int us) const;      // arithmetic for `us` microseconds of CPU time
  // Allocates and touches `bytes` more, kept; returns its process id.
  std::int32_t grow(std::uint64_t bytes);
  void exit_now(int code);  // ends the process at once with `code`

  PROCXY_EVENT void progress(std::int32_t pid, int done, int of);
  int job(int steps);  // emits progress(pid, 1..steps, steps), returns steps

 private:
  std::vector<std::vector<char>> held_;
};

}  // namespace e2e
