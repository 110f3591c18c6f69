#pragma once

#include <procxy/annotate.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace jobs {

struct Progress {
  int done;
  int total;
};

// Events of every shape: no parameters, the same signature twice, a const
// event, unnamed and defaulted parameters, a string_view and an aggregate,
// noexcept events.
class PROCXY_REMOTE Runner {
 public:
  void run(int steps);
  PROCXY_EVENT void started();
  PROCXY_EVENT void step(int index);
  PROCXY_EVENT void warning(int code);
  PROCXY_EVENT void log(std::string_view line, int level = 0) const;
  PROCXY_EVENT void report(const Progress&, const std::map<std::string, std::vector<double>>& stats);
  PROCXY_EVENT void stopped(int code) noexcept;
  PROCXY_EVENT void checked() const noexcept;
};

}  // namespace jobs
