// Calls through a proxy: values, overloads, default arguments, async calls,
// per-call options, and many threads at once.

#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <mutex>
#include <thread>

#include "extra.procxy.h"
#include "service.procxy.h"

using e2e::Service;

TEST_CASE("constructor overloads and default arguments pick the right form", "[calls]") {
  CHECK(procxy::spawn<Service>()->base() == 0);
  CHECK(procxy::spawn<Service>(7)->base() == 7);
  auto named = procxy::spawn<Service>(std::string("n"));
  CHECK(named->base() == 5);  // default argument applied in the child
  CHECK(named->name() == "n");
  auto both = procxy::spawn<Service>(procxy::Options{}, std::string("m"), 9);
  CHECK(both->base() == 9);
  CHECK(both->name() == "m");
}

TEST_CASE("methods return their results and overloads are distinguished", "[calls]") {
  auto service = procxy::spawn<Service>(100);
  CHECK(service->add(2, 3) == 105);
  CHECK(service->add(2L, 3L, 4L) == 109L);
  CHECK(service->increment() == 1);
  CHECK(service->increment() == 2);  // one object lives across calls
  CHECK(service->pid() == service.pid());
  CHECK(service.pid() != getpid());
}

TEST_CASE("values cross the boundary exactly", "[calls]") {
  auto service = procxy::spawn<Service>();
  std::string with_nul("a\0b", 3);
  CHECK(service->echo(with_nul) == with_nul);
  CHECK(service->echo("") == "");
  CHECK(service->echo("héllo wörld ✓") == "héllo wörld ✓");
  std::string big(200'000, 'x');
  CHECK(service->echo(big) == big);
  CHECK(service->reverse({1, 2, 3}) == std::vector<std::int32_t>{3, 2, 1});
  CHECK(service->reverse({}).empty());
  std::vector<std::int32_t> many(1'000'000);
  for (size_t i = 0; i < many.size(); ++i) many[i] = static_cast<std::int32_t>(i);
  std::vector<std::int32_t> reversed = service->reverse(many);
  REQUIRE(reversed.size() == many.size());
  CHECK(reversed.front() == 999'999);
  CHECK(reversed.back() == 0);

  e2e::Nested nested{{"first", -3, {0.5, -1.25}}, {{"a", 1, {}}, {"b", 2, {3.0}}}, true};
  e2e::Nested back = service->roundtrip(nested);
  CHECK(back.item.name == "first");
  CHECK(back.item.count == -3);
  CHECK(back.item.weights == std::vector<double>{0.5, -1.25});
  REQUIRE(back.items.size() == 2);
  CHECK(back.items[1].name == "b");
  CHECK(back.items[1].weights == std::vector<double>{3.0});
  CHECK(back.flag);

  CHECK(service->next(e2e::Color::red) == e2e::Color::green);
  CHECK(service->next(e2e::Color::green) == e2e::Color::red);
  CHECK(service->flip(e2e::kZero) == e2e::kOne);
  CHECK(service->u64(std::numeric_limits<std::uint64_t>::max()) == std::numeric_limits<std::uint64_t>::max());
  CHECK(service->i64(std::numeric_limits<std::int64_t>::min()) == std::numeric_limits<std::int64_t>::min());
  CHECK(service->i8(-128) == -128);
  CHECK(std::isnan(service->f64(std::nan(""))));
  CHECK(service->f64(-std::numeric_limits<double>::infinity()) == -std::numeric_limits<double>::infinity());
  CHECK(std::signbit(service->f64(-0.0)));
  CHECK(service->f32(1.5f) == 1.5f);
  CHECK(service->negate(false));
  CHECK(service->upper('q') == 'Q');
}

TEST_CASE("async calls return futures, many in flight at once", "[calls]") {
  auto service = procxy::spawn<Service>(1);
  std::vector<std::future<int>> results;
  for (int i = 0; i < 64; ++i) results.push_back(service.async()->add(i, i));
  for (int i = 0; i < 64; ++i) CHECK(results[static_cast<size_t>(i)].get() == 1 + 2 * i);
  std::future<void> done = service.async()->sleep_ms(1);
  done.get();
  CHECK_THROWS_AS(service.async()->throw_std("out_of_range", "far").get(), std::out_of_range);
  // Synchronous and asynchronous calls mixed on one proxy.
  auto pending = service.async()->add(20, 20);
  CHECK(service->add(1, 1) == 3);
  CHECK(pending.get() == 41);
}

TEST_CASE("a call that exceeds its timeout raises TimeoutError and the child keeps running", "[calls]") {
  auto service = procxy::spawn<Service>(0);
  procxy::CallOptions quick;
  quick.timeout = std::chrono::milliseconds(100);
  try {
    service.with(quick)->sleep_ms(600);
    FAIL("no timeout");
  } catch (const procxy::TimeoutError& e) {
    CHECK_THAT(e.what(), Catch::Contains("parent") && Catch::Contains("sleep_ms") && Catch::Contains("timed out"));
  }
  CHECK(service.alive());
  CHECK(service->add(1, 2) == 3);  // the late reply of the timed-out call is dropped, not mismatched

  auto future = service.with(quick).async()->sleep_ms(600);
  CHECK_THROWS_AS(future.get(), procxy::TimeoutError);
  CHECK(service->add(2, 2) == 4);
}

TEST_CASE("kill_on_timeout kills the child", "[calls]") {
  procxy::Options options;
  options.kill_on_timeout = true;
  auto service = procxy::spawn<Service>(options);
  procxy::CallOptions quick;
  quick.timeout = std::chrono::milliseconds(100);
  CHECK_THROWS_AS(service.with(quick)->crash("hang"), procxy::TimeoutError);
  procxy::ExitStatus status = service.wait();
  CHECK(status.signal == SIGKILL);
  CHECK_THROWS_AS(service->add(1, 1), procxy::ChildExitedError);
}

TEST_CASE("a stop token cancels the caller's wait", "[calls]") {
  auto service = procxy::spawn<Service>();
  std::stop_source source;
  procxy::CallOptions options;
  options.stop = source.get_token();
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    source.request_stop();
  });
  CHECK_THROWS_AS(service.with(options)->sleep_ms(500), procxy::CancelledError);
  canceller.join();
  CHECK(service->add(1, 1) == 2);
}

TEST_CASE("a handle operation and a method of the same name do not clash", "[calls]") {
  auto service = procxy::spawn<Service>();
  CHECK(service->pid() == service.pid());  // -> reaches the method, . the handle
}

TEST_CASE("classes declared with inline bodies work", "[calls]") {
  auto extra = procxy::spawn<e2e::Extra>();
  CHECK(extra->twice(21) == 42);
}
