// Query coalescing, per-caller cancellation and PROCXY_CACHE (SPEC §6), counted
// in the child: each test method records its runs there (Service::runs).

#include <catch2/catch.hpp>
#include <future>
#include <optional>
#include <thread>

#include "service.procxy.h"
#include "test_support.h"

using e2e::Service;

namespace {

using std::chrono::milliseconds;

// Long enough that every caller joins while the first request is in flight.
const int kSlowMs = static_cast<int>(e2e::bound(milliseconds(200)).count());
// Time for callers released together to have sent or joined.
const milliseconds kSettle = e2e::bound(milliseconds(50));

// The runs the child counted once they reach `at_least` (calls may still be
// finishing), within a bound that catches hangs.
std::int64_t runs_reaching(const procxy::Proxy<Service>& service, const std::string& method, std::int64_t at_least) {
  std::int64_t runs = 0;
  e2e::eventually([&] { return (runs = service->runs(method)) >= at_least; }, e2e::bound(milliseconds(5000)));
  return runs;
}

procxy::Options one_attempt() {
  procxy::Options options;
  options.retries = 0;
  options.dedupe = false;
  return options;
}

}  // namespace

TEST_CASE("100 concurrent identical queries run once in the child", "[coalesce]") {
  auto service = procxy::spawn<Service>(one_attempt());
  std::vector<int> results(100);
  // Half block, half wait on futures issued from the same threads.
  e2e::at_once(50, [&](int i) {
    auto later = service.async()->slow_query(21, kSlowMs);
    results[i] = service->slow_query(21, kSlowMs);
    results[50 + i] = later.get();
  });
  CHECK(std::count(results.begin(), results.end(), 42) == 100);
  CHECK(service->runs("slow_query") == 1);
}

TEST_CASE("concurrent queries with different arguments run once per distinct argument", "[coalesce]") {
  auto service = procxy::spawn<Service>(one_attempt());
  std::vector<int> results(100);
  e2e::at_once(100, [&](int i) { results[i] = service->slow_query(i % 4, kSlowMs); });
  for (int i = 0; i < 100; ++i) CHECK(results[i] == 2 * (i % 4));
  CHECK(service->runs("slow_query") == 4);
}

TEST_CASE("mutations are never coalesced", "[coalesce]") {
  auto service = procxy::spawn<Service>(one_attempt());
  std::vector<int> results(100);
  e2e::at_once(100, [&](int i) { results[i] = service->slow_mutation(5, 2); });
  CHECK(std::count(results.begin(), results.end(), 5) == 100);
  CHECK(service->runs("slow_mutation") == 100);
}

TEST_CASE("coalescing can be turned off per proxy and per call", "[coalesce]") {
  procxy::Options off = one_attempt();
  off.coalesce = false;
  auto separate = procxy::spawn<Service>(off);
  std::vector<int> results(10);
  // They run one after another: shorter, to stay within the timeout.
  e2e::at_once(10, [&](int i) { results[i] = separate->slow_query(1, kSlowMs / 4); });
  CHECK(std::count(results.begin(), results.end(), 2) == 10);
  CHECK(separate->runs("slow_query") == 10);

  auto service = procxy::spawn<Service>(one_attempt());
  auto shared = service.async()->slow_query(1, kSlowMs);
  auto fresh = service.with({.coalesce = false}).async()->slow_query(1, kSlowMs);
  auto joined = service.async()->slow_query(1, kSlowMs);
  CHECK(shared.get() + fresh.get() + joined.get() == 6);
  CHECK(service->runs("slow_query") == 2);
}

TEST_CASE("a caller's stop token cancels only that caller", "[coalesce][cancel]") {
  auto service = procxy::spawn<Service>(one_attempt());
  const int wait_ms = static_cast<int>(e2e::bound(milliseconds(250)).count());

  // Three callers share one request; `cancelling` (by index) cancel theirs.
  auto run = [&](std::vector<int> cancelling) {
    std::stop_source stops[3];
    std::future<int> calls[3];
    calls[0] = std::async(std::launch::async,
                          [&] { return service.with({.stop = stops[0].get_token()})->wait_for_cancel(1, wait_ms); });
    std::this_thread::sleep_for(kSettle);  // the first caller sends the request
    calls[1] = service.with({.stop = stops[1].get_token()}).async()->wait_for_cancel(1, wait_ms);
    calls[2] = std::async(std::launch::async,
                          [&] { return service.with({.stop = stops[2].get_token()})->wait_for_cancel(1, wait_ms); });
    std::this_thread::sleep_for(kSettle);  // the others joined it
    for (int i : cancelling) stops[i].request_stop();
    std::vector<std::string> outcome;
    for (auto& call : calls) {
      try {
        outcome.push_back(std::to_string(call.get()));
      } catch (const procxy::CancelledError&) {
        outcome.push_back("cancelled");
      }
    }
    return outcome;
  };

  SECTION("the first caller cancels") {
    CHECK(run({0}) == std::vector<std::string>{"cancelled", "1", "1"});
    CHECK(service->runs("cancel seen") == 0);
  }
  SECTION("a later caller cancels") {
    CHECK(run({2}) == std::vector<std::string>{"1", "1", "cancelled"});
    CHECK(service->runs("cancel seen") == 0);
  }
  SECTION("every caller cancels: the child sees it") {
    CHECK(run({0, 1, 2}) == std::vector<std::string>{"cancelled", "cancelled", "cancelled"});
    CHECK(runs_reaching(service, "cancel seen", 1) == 1);
  }
  CHECK(service->runs("wait_for_cancel") == 1);
}

TEST_CASE("after calls that asked for their stop token and ended at once, the child still hears a Cancel",
          "[coalesce][cancel]") {
  auto service = procxy::spawn<Service>(one_attempt());
  for (int i = 0; i < 5; ++i) CHECK(service->wait_for_cancel(2, 0) == 2);
  std::stop_source stop;
  auto call = service.with({.stop = stop.get_token()})
                  .async()
                  ->wait_for_cancel(1, static_cast<int>(e2e::bound(milliseconds(5000)).count()));
  std::this_thread::sleep_for(kSettle);
  stop.request_stop();
  CHECK_THROWS_AS(call.get(), procxy::CancelledError);
  CHECK(runs_reaching(service, "cancel seen", 1) == 1);
}

TEST_CASE("a call cancelled while queued in the child never runs", "[coalesce][cancel]") {
  auto service = procxy::spawn<Service>(one_attempt());
  // It asks for its stop token, so the child reads while it runs.
  auto running = service.async()->wait_for_cancel(1, static_cast<int>(e2e::bound(milliseconds(250)).count()));
  std::this_thread::sleep_for(kSettle);
  std::stop_source stop;
  auto queued = service.with({.stop = stop.get_token()}).async()->slow_query(9, 0);
  std::this_thread::sleep_for(kSettle);
  stop.request_stop();
  CHECK_THROWS_AS(queued.get(), procxy::CancelledError);
  CHECK(running.get() == 1);
  CHECK(service->runs("slow_query") == 0);
  CHECK(service->runs("cancel seen") == 0);
}

TEST_CASE("a caller whose token already fired never sends", "[coalesce][cancel]") {
  auto service = procxy::spawn<Service>(one_attempt());
  std::stop_source stop;
  stop.request_stop();
  CHECK_THROWS_AS(service.with({.stop = stop.get_token()})->slow_query(1, 0), procxy::CancelledError);
  CHECK_THROWS_AS(service.with({.stop = stop.get_token()}).async()->slow_query(1, 0).get(), procxy::CancelledError);
  CHECK(service->runs("slow_query") == 0);
}

TEST_CASE("an error reaches every waiter, and the next call asks again", "[coalesce]") {
  auto service = procxy::spawn<Service>(one_attempt());
  std::vector<std::exception_ptr> errors(10);
  e2e::at_once(10, [&](int i) {
    try {
      service->failing_query(1, kSlowMs);
    } catch (...) {
      errors[i] = std::current_exception();  // read here, on one thread: see tests/tsan.supp
    }
  });
  for (const auto& error : errors)
    CHECK_THROWS_WITH(std::rethrow_exception(error), Catch::Contains("failing_query(1) failed"));
  CHECK(service->runs("failing_query") == 1);
  CHECK_THROWS_AS(service->failing_query(1, 0), std::runtime_error);
  CHECK(service->runs("failing_query") == 2);
}

TEST_CASE("the first caller's timeout applies to every waiter", "[coalesce]") {
  auto service = procxy::spawn<Service>(one_attempt());
  const milliseconds timeout = e2e::bound(milliseconds(100));
  const int slow = static_cast<int>(timeout.count() * 3);
  auto first = service.with({.timeout = timeout}).async()->slow_query(3, slow);
  std::this_thread::sleep_for(timeout / 4);
  std::vector<std::future<int>> joined;
  for (int i = 0; i < 9; ++i)
    joined.push_back(service.with({.timeout = milliseconds(60'000)}).async()->slow_query(3, slow));
  auto started = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(first.get(), procxy::TimeoutError);
  for (auto& call : joined) CHECK_THROWS_AS(call.get(), procxy::TimeoutError);
  CHECK(std::chrono::steady_clock::now() - started < e2e::bound(milliseconds(1000)));
  // Nothing stays behind: the same query is a new request.
  CHECK(service->slow_query(3, 0) == 6);
  CHECK(runs_reaching(service, "slow_query", 2) == 2);
}

TEST_CASE("a child's death reaches every waiter, and the next call asks the new child", "[coalesce]") {
  procxy::Options options = one_attempt();
  options.restart = true;
  auto service = procxy::spawn<Service>(options);
  pid_t first = service.pid();
  service->crash_later("kill", static_cast<int>(kSettle.count()) * 2, "");
  std::vector<std::exception_ptr> errors(10);
  e2e::at_once(10, [&](int i) {
    try {
      service->slow_query(4, 60'000);
    } catch (...) {
      errors[i] = std::current_exception();  // read here, on one thread: see tests/tsan.supp
    }
  });
  for (const auto& error : errors) {
    try {
      std::rethrow_exception(error);
    } catch (const procxy::ChildExitedError& e) {
      CHECK(e.signal() == SIGKILL);
    } catch (...) {
      FAIL("not a ChildExitedError");
    }
  }
  CHECK(service->slow_query(4, 0) == 8);
  CHECK(service.pid() != first);
  CHECK(service->runs("slow_query") == 1);
}

TEST_CASE("PROCXY_CACHE serves a result for its time to live, and never an error", "[coalesce][cache]") {
  auto service = procxy::spawn<Service>(one_attempt());
  CHECK(service->cached_square(3) == 9);
  CHECK(service->cached_square(3) == 9);
  CHECK(service.async()->cached_square(3).get() == 9);
  CHECK(service->runs("cached_square") == 1);

  CHECK(service->cached_square(4) == 16);  // other arguments, another entry
  CHECK(service->runs("cached_square") == 2);

  std::this_thread::sleep_for(milliseconds(400));  // past PROCXY_CACHE(300)
  CHECK(service->cached_square(3) == 9);
  CHECK(service->runs("cached_square") == 3);

  CHECK_THROWS_AS(service->cached_square(-1), std::domain_error);
  CHECK_THROWS_AS(service->cached_square(-1), std::domain_error);
  CHECK(service->runs("cached_square") == 5);

  // A forced-fresh call asks the child, and refreshes the entry.
  CHECK(service.with({.coalesce = false})->cached_square(3) == 9);
  CHECK(service->cached_square(3) == 9);
  CHECK(service->runs("cached_square") == 6);
}
