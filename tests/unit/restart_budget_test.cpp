#include "parent/restart_budget.h"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using procxy::RestartPolicy;
using procxy::detail::RestartBudget;

TEST_CASE("restarts within the window wait twice as long each time, up to 10 s, then give up", "[restart]") {
  RestartBudget budget(RestartPolicy{.max_restarts = 8, .within = 600s, .backoff = 1s});
  auto now = RestartBudget::Clock::now();
  std::vector<std::chrono::steady_clock::duration> waits;
  for (int i = 0; i < 8; ++i) waits.push_back(budget.take(now + std::chrono::seconds(i)).value());
  CHECK(waits == std::vector<std::chrono::steady_clock::duration>{1s, 2s, 4s, 8s, 10s, 10s, 10s, 10s});
  CHECK_FALSE(budget.take(now + 9s));
  CHECK(budget.describe() == "8 restarts within 600000 ms (Options::restart_policy)");
}

TEST_CASE("restarts older than the window no longer count", "[restart]") {
  RestartBudget budget(RestartPolicy{.max_restarts = 2, .within = 10s, .backoff = 100ms});
  auto now = RestartBudget::Clock::now();
  CHECK(budget.take(now) == std::chrono::steady_clock::duration(100ms));
  CHECK(budget.take(now + 1s) == std::chrono::steady_clock::duration(200ms));
  CHECK_FALSE(budget.take(now + 2s));  // a refusal is not counted
  CHECK(budget.take(now + 10s) == std::chrono::steady_clock::duration(200ms));  // the first has left the window
  CHECK(budget.take(now + 21s) == std::chrono::steady_clock::duration(100ms));
}

TEST_CASE("max_restarts 0 never restarts", "[restart]") {
  RestartBudget budget(RestartPolicy{.max_restarts = 0});
  CHECK_FALSE(budget.take(RestartBudget::Clock::now()));
}
