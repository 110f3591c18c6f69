// Pools (SPEC §10): distribution, replacement of a child killed under load,
// recycling by max_calls and max_rss, events of every child, the crash loop
// that ends, terminate and kill.

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "pool_worker.procxy.h"
#include "pool_worker_support.h"
#include "test_support.h"

using namespace std::chrono_literals;
using e2e::bound;
using e2e::eventually;
using e2e::Worker;

namespace {

procxy::PoolOptions pool_of(int size) {
  procxy::PoolOptions options;
  options.size = size;
  return options;
}

// A fresh path in a directory of the test's own, removed with it.
std::vector<long long> journal_times(const std::string& journal) {
  std::ifstream in(journal);
  std::vector<long long> times;
  for (long long t; in >> t;) times.push_back(t);
  return times;
}

}  // namespace

TEST_CASE("a pool starts size children and spreads calls over them in turn", "[pool]") {
  auto pool = procxy::pool<Worker>(pool_of(3), "", "");
  CHECK(pool.size() == 3);
  std::vector<pid_t> pids = pool.pids();
  REQUIRE(pids.size() == 3);
  CHECK(std::set<pid_t>(pids.begin(), pids.end()).size() == 3);
  for (pid_t pid : pids) CHECK(pid != ::getpid());

  // One at a time, every child has no call in flight: the tie goes in turn.
  std::vector<pid_t> served;
  for (int i = 0; i < 6; ++i) served.push_back(pool->pid_after(0));
  CHECK(std::vector<pid_t>(served.begin(), served.begin() + 3) == std::vector<pid_t>(served.begin() + 3, served.end()));
  CHECK(std::set<pid_t>(served.begin(), served.end()) == std::set<pid_t>(pids.begin(), pids.end()));
}

TEST_CASE("a pool sends each call to the child with the fewest calls in flight", "[pool]") {
  auto pool = procxy::pool<Worker>(pool_of(2), "", "");
  // A long call holds the first child: the next calls, one at a time, go to
  // the other one.
  std::future<std::int32_t> busy = pool.async()->pid_after_mutation(int(bound(600ms).count()));
  std::set<std::int32_t> quick_pids;
  for (int i = 0; i < 3; ++i) quick_pids.insert(pool->pid_after(0));
  std::int32_t busy_pid = busy.get();
  CHECK(quick_pids.size() == 1);
  CHECK(*quick_pids.begin() != busy_pid);
}

TEST_CASE("pool() with size 0 starts one child per CPU; a negative size is refused", "[pool]") {
  auto pool = procxy::pool<Worker>(pool_of(0), "", "");
  CHECK(pool.size() == static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  CHECK(pool.pids().size() == static_cast<std::size_t>(pool.size()));
  CHECK_THROWS_WITH(procxy::pool<Worker>(pool_of(-1), "", ""),
                    Catch::Contains("PoolOptions::size is -1") && Catch::Contains("0 for one per CPU"));
}

TEST_CASE("a child killed under load is replaced, and none of 64 queries in flight is lost", "[pool]") {
  auto pool = procxy::pool<Worker>(pool_of(2), "", "");
  std::vector<pid_t> before = pool.pids();
  std::vector<std::future<std::int32_t>> calls;
  for (int i = 0; i < 64; ++i) calls.push_back(pool.async()->pid_after(20));
  REQUIRE(::kill(before[0], SIGKILL) == 0);
  std::set<std::int32_t> served;
  for (auto& call : calls) {
    REQUIRE(call.wait_for(bound(20s)) == std::future_status::ready);
    served.insert(call.get());  // throws if a query was lost
  }
  CHECK(served.count(before[1]) == 1);
  // The replacement serves.
  REQUIRE(eventually(
      [&] {
        auto now = pool.pids();
        return now.size() == 2 && std::find(now.begin(), now.end(), before[0]) == now.end();
      },
      bound(10s)));
  std::set<std::int32_t> after;
  for (int i = 0; i < 4; ++i) after.insert(pool->pid_after(0));
  CHECK(after.size() == 2);
  CHECK(after.count(before[0]) == 0);
}

TEST_CASE("a pool fails a mutation whose child died, and sends the next one to another child", "[pool]") {
  auto pool = procxy::pool<Worker>(pool_of(2), "", "");
  std::vector<pid_t> pids = pool.pids();
  std::future<std::int32_t> first = pool.async()->pid_after_mutation(3000);
  std::future<std::int32_t> second = pool.async()->pid_after_mutation(3000);
  std::this_thread::sleep_for(300ms);  // both are sent
  REQUIRE(::kill(pids[0], SIGKILL) == 0);
  // Calls went in turn: the first to pids[0].
  CHECK_THROWS_AS(first.get(), procxy::ChildExitedError);
  CHECK(second.get() == pids[1]);
  CHECK(pool->pid_after_mutation(0) != pids[0]);
}

TEST_CASE("a synchronous query whose child died is retried on another child", "[pool]") {
  auto pool = procxy::pool<Worker>(pool_of(2), "", "");
  std::vector<pid_t> pids = pool.pids();
  std::thread killer([&] {
    std::this_thread::sleep_for(100ms);
    ::kill(pids[0], SIGKILL);
  });
  std::int32_t served = pool->pid_after(int(bound(1000ms).count()));  // goes to pids[0] first, in turn
  killer.join();
  CHECK(served != pids[0]);
}

TEST_CASE("max_calls recycles a child after that many calls, and no call fails", "[pool]") {
  procxy::PoolOptions options = pool_of(1);
  options.max_calls = 3;
  auto pool = procxy::pool<Worker>(options, "", "");
  pid_t first = pool.pids().at(0);
  std::vector<std::int32_t> served;
  for (int i = 0; i < 10; ++i) served.push_back(pool->pid_after(0));
  for (int i = 0; i < 10; ++i) CHECK(served[i] == served[i / 3 * 3]);  // three calls each
  CHECK(std::set<std::int32_t>(served.begin(), served.end()).size() == 4);
  CHECK(served[0] == first);
  CHECK(eventually([&] { return !e2e::process_exists(first); }, bound(10s)));  // it exited, and was reaped

  // Concurrent calls through recycling: none fails.
  options.size = 2;
  options.max_calls = 5;
  auto busy = procxy::pool<Worker>(options, "", "");
  std::vector<std::future<std::int32_t>> calls;
  for (int i = 0; i < 40; ++i) calls.push_back(busy.async()->pid_after(5));
  std::set<std::int32_t> pids;
  for (auto& call : calls) pids.insert(call.get());
  CHECK(pids.size() >= 8);
}

TEST_CASE("a child over limits.max_rss is replaced once its call returned, and no call fails", "[pool]") {
  procxy::PoolOptions options = pool_of(1);
  options.child.limits.max_rss = e2e::resident_bytes_of_a_worker() + (64ull << 20);
  auto pool = procxy::pool<Worker>(options, "", "");
  std::int32_t first = pool->grow(4ull << 20);  // sanitizers make it up to five times as much
  CHECK(pool->pid_after(0) == first);           // under the limit: kept
  CHECK(pool->grow(96ull << 20) == first);      // over it after this call, which returns
  std::int32_t next = pool->pid_after(0);
  CHECK(next != first);
  CHECK(eventually([&] { return !e2e::process_exists(first); }, bound(10s)));
}

TEST_CASE("on() hears the events of every child of a pool, replacements included; once() one event", "[pool]") {
  auto pool = procxy::pool<Worker>(pool_of(2), "", "");
  std::mutex mutex;
  std::map<std::int32_t, int> events;  // per child
  int once_count = 0;
  auto sub = pool.on(&Worker::progress, [&](std::int32_t pid, int, int) {
    std::lock_guard<std::mutex> lock(mutex);
    ++events[pid];
  });
  auto once = pool.once(&Worker::progress, [&](std::int32_t, int, int) {
    std::lock_guard<std::mutex> lock(mutex);
    ++once_count;
  });
  std::vector<pid_t> pids = pool.pids();
  // Two calls at once: one on each child; their events come before their results.
  auto a = pool.async()->job(5);
  auto b = pool.async()->job(5);
  CHECK(a.get() + b.get() == 10);
  {
    std::lock_guard<std::mutex> lock(mutex);
    CHECK(events[pids[0]] == 5);
    CHECK(events[pids[1]] == 5);
    CHECK(once_count == 1);
  }
  CHECK(sub.active());
  CHECK_FALSE(once.active());

  REQUIRE(::kill(pids[0], SIGKILL) == 0);
  REQUIRE(eventually([&] { return pool.pids().size() == 2 && pool.pids() != pids; }, bound(10s)));
  std::vector<pid_t> now = pool.pids();
  auto c = pool.async()->job(3);
  auto d = pool.async()->job(3);
  CHECK(c.get() + d.get() == 6);
  {
    std::lock_guard<std::mutex> lock(mutex);
    for (pid_t pid : now) CHECK(events[pid] == (pid == pids[1] ? 8 : 3));
    CHECK(once_count == 1);
  }
  sub.off();
  CHECK_FALSE(sub.active());
  pool->job(2);
  std::lock_guard<std::mutex> lock(mutex);
  int total = 0;
  for (auto& [pid, count] : events) total += count;
  CHECK(total == 16);
}

TEST_CASE("a pool whose replacements crash in their constructor gives up after max_restarts, backing off",
          "[pool][restart]") {
  e2e::TempDir dir;
  std::string journal = dir.file("journal");
  std::string marker = dir.file("crash");
  procxy::PoolOptions options = pool_of(1);
  options.child.restart_policy = {.max_restarts = 3, .within = 60s, .backoff = 100ms};
  auto pool = procxy::pool<Worker>(options, journal, marker);
  std::ofstream(marker).put('x');
  CHECK_THROWS_AS(pool->exit_now(1), procxy::ChildExitedError);  // a mutation: not retried
  // Each replacement starts and exits with code 3; after three, the pool gives up.
  std::string error;
  REQUIRE(eventually(
      [&] {
        try {
          pool->pid_after(0);
        } catch (const procxy::ChildExitedError& e) {
          error = e.what();
        } catch (const procxy::TimeoutError&) {
        }
        return error.find("gave up") != std::string::npos;
      },
      bound(20s)));
  CHECK_THAT(error, Catch::Contains("procxy gave up replacing its children after 3 restarts within 60000 ms "
                                    "(Options::restart_policy)") &&
                        Catch::Contains("exited with code 3") && Catch::Contains("max_restarts"));
  std::vector<long long> starts = journal_times(journal);
  REQUIRE(starts.size() == 4);  // the first child, then three replacements
  // The waits double: 100, 200, 400 ms at least before each start.
  CHECK(starts[2] - starts[1] >= 200'000);
  CHECK(starts[3] - starts[2] >= 400'000);
  CHECK(pool.pids().empty());
}

TEST_CASE("terminate() and kill() end every child of a pool; later calls fail with TerminatedError", "[pool]") {
  auto pool = procxy::pool<Worker>(pool_of(2), "", "");
  std::vector<pid_t> pids = pool.pids();
  pool.terminate();
  for (pid_t pid : pids) CHECK_FALSE(e2e::process_running(pid));
  CHECK_THROWS_AS(pool->pid_after(0), procxy::TerminatedError);
  CHECK_THROWS_AS(pool.async()->pid_after(0).get(), procxy::TerminatedError);

  auto killed = procxy::pool<Worker>(pool_of(2), "", "");
  pids = killed.pids();
  killed.kill();
  for (pid_t pid : pids) CHECK_FALSE(e2e::process_running(pid));
  CHECK_THROWS_AS(killed->pid_after(0), procxy::TerminatedError);
}

TEST_CASE("children() gives a proxy on each child of a pool", "[pool]") {
  auto pool = procxy::pool<Worker>(pool_of(2), "", "");
  std::vector<procxy::Proxy<Worker>> children = pool.children();
  REQUIRE(children.size() == 2);
  std::vector<pid_t> pids = pool.pids();
  CHECK(children[0]->pid_after(0) == pids[0]);
  CHECK(children[1]->pid_after(0) == pids[1]);
  CHECK(children[1].pid() == pids[1]);
}

TEST_CASE("children that die on the call that retired them still count against the restart policy", "[pool][restart]") {
  procxy::PoolOptions options = pool_of(1);
  options.max_calls = 1;  // every call retires its child, which is replaced at once
  options.child.restart_policy = {.max_restarts = 2, .within = 60s, .backoff = 0ms};
  auto pool = procxy::pool<Worker>(options, "", "");
  std::string error;
  for (int i = 0; i < 10 && error.find("gave up") == std::string::npos; ++i) {
    try {
      pool->exit_now(1);
    } catch (const procxy::ChildExitedError& e) {
      error = e.what();
    }
  }
  CHECK_THAT(error, Catch::Contains("gave up replacing its children after 2 restarts"));
}

TEST_CASE("a call waiting for a pool's child ends when its stop token fires", "[pool]") {
  procxy::PoolOptions options = pool_of(1);
  options.child.restart_policy.backoff = 10'000ms;  // the replacement is far off
  auto pool = procxy::pool<Worker>(options, "", "");
  pid_t pid = pool.pids().at(0);
  REQUIRE(::kill(pid, SIGKILL) == 0);
  REQUIRE(eventually([&] { return pool.pids().empty(); }, bound(10s)));
  std::stop_source stop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(100ms);
    stop.request_stop();
  });
  auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(pool.with({.stop = stop.get_token()})->pid_after(0), procxy::CancelledError);
  stopper.join();
  CHECK(std::chrono::steady_clock::now() - start < bound(5s));
}
