// Supervision: retries of queries, restart of a dead child, concurrency in the
// child.

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>

#include "service.procxy.h"
#include "test_support.h"

using e2e::Service;

namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("procxy_e2e_" + std::to_string(::getpid()) + "_" + name)).string();
}

}  // namespace

// Per-call timeouts keep the start out of it (Options::timeout also bounds
// spawn), and stretch under sanitizers.
const procxy::CallOptions kQuick{.timeout = e2e::bound(std::chrono::milliseconds(150))};
const int kPastQuick = static_cast<int>(e2e::bound(std::chrono::milliseconds(400)).count());

TEST_CASE("a query is re-sent after a timeout, up to Options::retries times", "[supervision]") {
  procxy::Options options;
  options.retries = 5;
  auto service = procxy::spawn<Service>(options);
  // The first run sleeps past the timeout; a later attempt finds it done.
  std::int64_t runs = service.with(kQuick)->slow_first(kPastQuick);
  CHECK(runs >= 2);
  CHECK(runs <= 6);

  auto async_service = procxy::spawn<Service>(options);
  CHECK(async_service.with(kQuick).async()->slow_first(kPastQuick).get() >= 2);
}

TEST_CASE("a mutation is never re-sent", "[supervision]") {
  procxy::Options options;
  options.retries = 3;
  auto service = procxy::spawn<Service>(options);
  CHECK_THROWS_AS(service.with(kQuick)->slow_first_mutation(kPastQuick), procxy::TimeoutError);
  // It ran once: the next run is the second.
  CHECK(service.with({.timeout = std::chrono::seconds(10)})->slow_first_mutation(0) == 2);
}

TEST_CASE("retries = 0 sends a query once; the error says which attempt failed", "[supervision]") {
  procxy::Options once;
  once.retries = 0;
  auto service = procxy::spawn<Service>(once);
  CHECK_THROWS_WITH(service.with(kQuick)->slow_first(kPastQuick),
                    Catch::Contains("e2e::Service::slow_first") && Catch::Contains("timed out") &&
                        Catch::Contains("ms (CallOptions::timeout), on its only attempt (Options::retries is 0)"));

  procxy::Options twice = once;
  twice.retries = 1;
  auto hung = procxy::spawn<Service>(twice);
  hung.async()->crash("hang");  // every later call waits behind it
  CHECK_THROWS_WITH(hung.with(kQuick)->slow_first(0),
                    Catch::Contains("on attempt 2 of 2 (a query is re-sent up to Options::retries = 1 times)"));

  procxy::Options limited;
  limited.timeout = std::chrono::milliseconds(200);
  auto mutating = procxy::spawn<Service>(limited);
  mutating.async()->crash("hang");
  CHECK_THROWS_WITH(mutating->add(1, 2),
                    Catch::StartsWith("procxy: parent: e2e::Service::add on child " + std::to_string(mutating.pid())) &&
                        Catch::Contains("no reply within its limit of 200 ms (Options::timeout), on its only attempt "
                                        "(not a PROCXY_QUERY, so never re-sent)") &&
                        Catch::Contains("raise Options::timeout if it needs longer"));
}

TEST_CASE("restart: the next call after a death starts a new child, constructed the same way", "[supervision]") {
  procxy::Options options;
  options.restart = true;
  auto service = procxy::spawn<Service>(options, "restarted", 7);
  pid_t first = service.pid();
  int exits = 0;
  std::mutex mutex;
  std::condition_variable exited;
  service.on_exit([&](const procxy::ExitStatus&) {
    std::lock_guard<std::mutex> lock(mutex);
    ++exits;
    exited.notify_all();
  });
  CHECK_THROWS_AS(service->crash("kill"), procxy::ChildExitedError);  // a mutation is not re-sent
  CHECK_FALSE(service.alive());
  CHECK(service->name() == "restarted");  // a new child, constructed the same way
  CHECK(service->base() == 7);
  CHECK(service.pid() != first);
  CHECK(service.alive());
  CHECK_THROWS_WITH(service->crash("exit3"), Catch::Contains("the next call starts a new child"));
  CHECK(service->add(1, 1) == 9);
  std::unique_lock<std::mutex> lock(mutex);
  CHECK(exited.wait_for(lock, std::chrono::seconds(10), [&] { return exits == 2; }));  // once per death
}

TEST_CASE("restart: a query that dies is re-sent to the restarted child", "[supervision]") {
  std::string marker = temp_path("die_once");
  std::filesystem::remove(marker);
  procxy::Options options;
  options.restart = true;
  auto service = procxy::spawn<Service>(options);
  pid_t first = service.pid();
  pid_t answered = service->die_once(marker);  // the first child kills itself; the second answers
  CHECK(answered != first);
  CHECK(answered == service.pid());

  std::filesystem::remove(marker);
  procxy::Options no_restart;
  auto plain = procxy::spawn<Service>(no_restart);
  CHECK_THROWS_AS(plain->die_once(marker), procxy::ChildExitedError);  // without restart, nothing to retry on
  std::filesystem::remove(marker);
}

TEST_CASE("terminate() and kill() are final even with restart", "[supervision]") {
  procxy::Options options;
  options.restart = true;
  auto service = procxy::spawn<Service>(options);
  service.terminate();
  CHECK_THROWS_AS(service->add(1, 1), procxy::TerminatedError);
}

TEST_CASE("Options::concurrency runs that many calls at once in the child", "[supervision]") {
  procxy::Options options;
  options.concurrency = 4;
  auto service = procxy::spawn<Service>(options);
  std::vector<std::future<int>> calls;
  for (int i = 0; i < 4; ++i) calls.push_back(service.async()->rendezvous(4));  // all four must be inside at once
  for (auto& call : calls) CHECK(call.get() == 4);
  CHECK(service->add(2, 3) == 5);

  procxy::Options invalid;
  invalid.concurrency = 0;
  CHECK_THROWS_AS(procxy::spawn<Service>(invalid), std::invalid_argument);
}

TEST_CASE("with concurrency 1 calls run one at a time, in arrival order", "[supervision]") {
  auto service = procxy::spawn<Service>();
  std::vector<std::future<std::int64_t>> calls;
  for (int i = 0; i < 50; ++i) calls.push_back(service.async()->increment());
  for (int i = 0; i < 50; ++i) CHECK(calls[i].get() == i + 1);
}
