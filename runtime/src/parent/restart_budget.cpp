#include "parent/restart_budget.h"

#include <algorithm>
#include <string>

namespace procxy::detail {

constexpr std::chrono::milliseconds kMaxBackoff{10'000};

std::optional<RestartBudget::Clock::duration> RestartBudget::take(Clock::time_point now) {
  while (!recent_.empty() && now - recent_.front() >= policy_.within) recent_.pop_front();
  if (recent_.size() >= static_cast<std::size_t>(std::max(0, policy_.max_restarts))) return std::nullopt;
  std::chrono::milliseconds wait = policy_.backoff;
  for (std::size_t i = 0; i < recent_.size() && wait < kMaxBackoff; ++i) wait *= 2;
  recent_.push_back(now);
  return std::min<Clock::duration>(wait, kMaxBackoff);
}

std::string RestartBudget::describe() const {
  return std::to_string(policy_.max_restarts) + " restart" + (policy_.max_restarts == 1 ? "" : "s") + " within " +
         std::to_string(policy_.within.count()) + " ms (Options::restart_policy)";
}

}  // namespace procxy::detail
