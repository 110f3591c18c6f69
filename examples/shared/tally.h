#pragma once

// A tally that several processes share: each hit() adds to one count, kept
// in the one shared child, and every attached process hears of each hit.

#include <procxy/annotate.h>

#include <cstdint>
#include <string>

namespace demo {

class PROCXY_REMOTE Tally {
 public:
  // Counts a hit from `who`; returns the total so far.
  std::int64_t hit(const std::string& who);
  PROCXY_QUERY std::int64_t total() const;
  PROCXY_QUERY std::int32_t server_pid() const;

  PROCXY_EVENT void hit_by(const std::string& who, std::int64_t total);

 private:
  std::int64_t total_ = 0;
};

}  // namespace demo
