// The restart policy and max_rss of a private child (SPEC §11): a child that
// keeps dying is restarted with growing waits until procxy gives up; a child
// over Options::limits.max_rss ends, or is replaced without counting as a
// restart.

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "pool_worker.procxy.h"
#include "pool_worker_support.h"
#include "test_support.h"

using namespace std::chrono_literals;
using e2e::bound;
using e2e::Worker;

namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("procxy-restart-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

}  // namespace

TEST_CASE("a child whose constructor keeps crashing is restarted max_restarts times, backing off, then not",
          "[restart]") {
  std::string journal = temp_path("journal");
  std::string marker = temp_path("marker");
  std::filesystem::remove(journal);
  procxy::Options options;
  options.restart = true;
  options.restart_policy = {.max_restarts = 3, .within = 60s, .backoff = 100ms};
  auto proxy = procxy::spawn<Worker>(options, journal, marker);
  std::ofstream(marker).put('x');
  CHECK_THROWS_AS(proxy->exit_now(1), procxy::ChildExitedError);
  // Each call restarts the child, which exits in its constructor: the call
  // fails with the SpawnError. The fourth restart is refused.
  for (int i = 0; i < 3; ++i) CHECK_THROWS_AS(proxy->pid_after(0), procxy::SpawnError);
  std::string error;
  try {
    proxy->pid_after(0);
  } catch (const procxy::ChildExitedError& e) {
    error = e.what();
  }
  CHECK_THAT(error, Catch::Contains("procxy gave up restarting e2e::Worker after 3 restarts within 60000 ms "
                                    "(Options::restart_policy)") &&
                        Catch::Contains("the last restart failed") && Catch::Contains("code 3"));
  // It stays given up.
  CHECK_THROWS_WITH(proxy->pid_after(0), Catch::Contains("gave up"));
  std::vector<long long> starts;
  std::ifstream in(journal);
  for (long long t; in >> t;) starts.push_back(t);
  REQUIRE(starts.size() == 4);
  CHECK(starts[2] - starts[1] >= 200'000);  // the waits double
  CHECK(starts[3] - starts[2] >= 400'000);
  std::filesystem::remove(journal);
  std::filesystem::remove(marker);
}

TEST_CASE("restarts older than restart_policy.within no longer count", "[restart]") {
  procxy::Options options;
  options.restart = true;
  options.restart_policy = {.max_restarts = 1, .within = 300ms, .backoff = 0ms};
  auto proxy = procxy::spawn<Worker>(options, "", "");
  CHECK_THROWS_AS(proxy->exit_now(1), procxy::ChildExitedError);
  std::int32_t second = proxy->pid_after(0);  // the one restart the window allows
  CHECK_THROWS_AS(proxy->exit_now(1), procxy::ChildExitedError);
  std::this_thread::sleep_for(400ms);
  CHECK(proxy->pid_after(0) != second);  // the first restart has left the window
  CHECK_THROWS_AS(proxy->exit_now(1), procxy::ChildExitedError);
  CHECK_THROWS_WITH(proxy->pid_after(0),
                    Catch::Contains("gave up restarting") && Catch::Contains("the last child exited with code 1"));
}

TEST_CASE("a private child over limits.max_rss ends once its call returned, and says so", "[restart][limits]") {
  procxy::Options options;
  options.limits.max_rss = e2e::resident_bytes_of_a_worker() + (64ull << 20);
  auto proxy = procxy::spawn<Worker>(options, "", "");
  std::int32_t pid = proxy->grow(96ull << 20);  // returns: the limit is checked after the call
  CHECK(pid == proxy.pid());
  CHECK_THROWS_WITH(proxy->pid_after(0),
                    Catch::Contains("over Options::limits.max_rss = " + std::to_string(*options.limits.max_rss)) &&
                        Catch::Contains("after e2e::Worker::grow returned") && Catch::Contains("Options::restart"));
  CHECK(e2e::eventually([&] { return !proxy.alive(); }, bound(10s)));
}

TEST_CASE("with restart, a child over limits.max_rss is replaced, not counted as a restart", "[restart][limits]") {
  procxy::Options options;
  options.limits.max_rss = e2e::resident_bytes_of_a_worker() + (64ull << 20);
  options.restart = true;
  options.restart_policy.max_restarts = 0;  // a restart would be refused
  auto proxy = procxy::spawn<Worker>(options, "", "");
  std::int32_t first = proxy->grow(96ull << 20);
  std::int32_t next = proxy->pid_after(0);
  CHECK(next != first);
  CHECK(proxy->grow(96ull << 20) == next);
  CHECK(proxy->pid_after(0) != next);
}

TEST_CASE("a restart policy that makes no sense is refused before anything starts", "[restart]") {
  procxy::Options options;
  options.restart_policy.max_restarts = -1;
  CHECK_THROWS_WITH(procxy::spawn<Worker>(options, "", ""),
                    Catch::Contains("spawn(): Options::restart_policy.max_restarts is -1"));
  options = {};
  options.restart_policy.within = 0ms;
  CHECK_THROWS_WITH(procxy::spawn<Worker>(options, "", ""), Catch::Contains("Options::restart_policy.within is 0"));
  options = {};
  options.restart_policy.backoff = -5ms;
  procxy::PoolOptions pool;
  pool.child = options;
  CHECK_THROWS_WITH(procxy::pool<Worker>(pool, "", ""),
                    Catch::Contains("pool(): Options::restart_policy.backoff is -5 ms"));
}
