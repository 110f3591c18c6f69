#include "tally.h"

#include <unistd.h>

namespace demo {

std::int64_t Tally::hit(const std::string& who) {
  ++total_;
  hit_by(who, total_);  // to every process listening, whichever one called
  return total_;
}

std::int64_t Tally::total() const { return total_; }

std::int32_t Tally::server_pid() const { return static_cast<std::int32_t>(::getpid()); }

}  // namespace demo
