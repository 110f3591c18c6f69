#pragma once

// The restart policy (Options::restart_policy) as a count of recent
// restarts: whether another restart is allowed now, and how long to wait
// before it. No threads, no I/O: the caller sleeps and restarts.

#include <chrono>
#include <deque>
#include <optional>
#include <string>

#include "procxy/options.h"

namespace procxy::detail {

class RestartBudget {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RestartBudget(RestartPolicy policy) : policy_(policy) {}

  // Called before a restart at `now`. Returns the wait before it: `backoff`
  // doubled for each restart made within the last `within`, at most 10 s.
  // Returns nothing when `max_restarts` restarts were made within `within`:
  // the policy gives up, and the restart is not counted.
  std::optional<Clock::duration> take(Clock::time_point now);

  // "5 restarts within 60000 ms (Options::restart_policy)", for messages.
  std::string describe() const;

 private:
  RestartPolicy policy_;
  std::deque<Clock::time_point> recent_;  // when each restart within `within` was made
};

}  // namespace procxy::detail
