// Failures a user meets: exceptions from the child, a child that dies
// mid-call, terminate/kill, and failed starts.

#include <signal.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>

#include "extra.procxy.h"
#include "service.procxy.h"
#include "test_support.h"

using e2e::Service;

namespace {

template <class Std>
void check_rethrown_as(procxy::Proxy<Service>& service, const std::string& type, const std::string& name) {
  try {
    service->throw_std(type, "message of " + type);
    FAIL("nothing thrown");
  } catch (const Std& e) {
    auto* remote = dynamic_cast<const procxy::RemoteError*>(&e);
    REQUIRE(remote != nullptr);
    CHECK(remote->type_name() == name);
    CHECK(remote->message() == "message of " + type);
    CHECK_THAT(e.what(), Catch::Contains("message of " + type) && Catch::Contains("child") &&
                             Catch::Contains("e2e::Service::throw_std"));
  }
}

}  // namespace

TEST_CASE("standard exceptions are rethrown as their own type and as RemoteError", "[faults]") {
  auto service = procxy::spawn<Service>();
  check_rethrown_as<std::invalid_argument>(service, "invalid_argument", "std::invalid_argument");
  check_rethrown_as<std::domain_error>(service, "domain_error", "std::domain_error");
  check_rethrown_as<std::length_error>(service, "length_error", "std::length_error");
  check_rethrown_as<std::out_of_range>(service, "out_of_range", "std::out_of_range");
  check_rethrown_as<std::logic_error>(service, "logic_error", "std::logic_error");
  check_rethrown_as<std::range_error>(service, "range_error", "std::range_error");
  check_rethrown_as<std::overflow_error>(service, "overflow_error", "std::overflow_error");
  check_rethrown_as<std::underflow_error>(service, "underflow_error", "std::underflow_error");
  check_rethrown_as<std::runtime_error>(service, "runtime_error", "std::runtime_error");
  // The exact type is kept: a domain_error is not reported as a logic_error.
  CHECK_THROWS_AS(service->throw_std("domain_error", "x"), std::domain_error);
  CHECK(service->add(1, 1) == 2);  // the child survives its exceptions
}

TEST_CASE("remote_stack() holds the child's stack at the throw, symbolized", "[faults]") {
  auto service = procxy::spawn<Service>();
  try {
    service->throw_std("out_of_range", "where am I");
    FAIL("nothing thrown");
  } catch (const procxy::RemoteError& e) {
    INFO(e.remote_stack());
    CHECK_THAT(e.remote_stack(), Catch::StartsWith("#0 ") && Catch::Contains("e2e::Service::throw_std") &&
                                     Catch::Contains("procxy::detail::serve"));
  }
  try {
    service->throw_int(7);  // not a std::exception: found by its type
    FAIL("nothing thrown");
  } catch (const procxy::RemoteError& e) {
    CHECK_THAT(e.remote_stack(), Catch::Contains("e2e::Service::throw_int"));
  }
}

TEST_CASE("remote_stack() names functions without line information but invents no file:line", "[faults]") {
  auto service = procxy::spawn<Service>();
  try {
    service->throw_without_line_info("no lines here");
    FAIL("nothing thrown");
  } catch (const procxy::RemoteError& e) {
    std::string stack = e.remote_stack();
    INFO(stack);
    CHECK_THAT(stack, Catch::Contains("e2e::Service::throw_without_line_info"));
    CHECK_THAT(stack, Catch::Contains("procxy::detail::serve"));  // built with -g: lines known
    std::istringstream lines(stack);
    for (std::string line; std::getline(lines, line);) {
      if (line.find("without_line_info") == std::string::npos) continue;
      CHECK_THAT(line, !Catch::Contains(".cpp:") && !Catch::Contains(".h:") && Catch::Contains("+0x"));
    }
  }
}

TEST_CASE("other exception types become RemoteException naming the type", "[faults]") {
  auto service = procxy::spawn<Service>();
  try {
    service->throw_custom("custom trouble");
    FAIL("nothing thrown");
  } catch (const procxy::RemoteException& e) {
    CHECK(e.type_name() == "e2e::CustomError");
    CHECK_THAT(e.what(), Catch::Contains("e2e::CustomError") && Catch::Contains("child"));
  }
  try {
    service->throw_int(42);
    FAIL("nothing thrown");
  } catch (const procxy::RemoteException& e) {
    CHECK(e.type_name() == "int");
  }
  try {
    service->throw_std("bad_alloc", "");
    FAIL("nothing thrown");
  } catch (const procxy::RemoteException& e) {
    CHECK(e.type_name() == "std::bad_alloc");  // a std type outside SPEC's list
  }
}

TEST_CASE("a constructor that throws makes spawn throw SpawnError carrying the remote error", "[faults]") {
  CHECK(procxy::spawn<e2e::Fragile>(3)->code() == 3);
  try {
    procxy::spawn<e2e::Fragile>(-1);
    FAIL("spawn succeeded");
  } catch (const procxy::SpawnError& e) {
    auto* remote = dynamic_cast<const procxy::RemoteError*>(&e);
    REQUIRE(remote != nullptr);
    CHECK(remote->type_name() == "std::invalid_argument");
    CHECK(remote->message() == "code must not be negative, got -1");
    CHECK_THAT(e.what(), Catch::Contains("constructor of e2e::Fragile"));
  }
}

namespace {

using Clock = std::chrono::steady_clock;

struct Death {
  std::string how;
  std::optional<int> exit_code;
  std::optional<int> signal;
};

const std::vector<Death> kDeaths = {
    {"kill", {}, SIGKILL}, {"segv", {}, SIGSEGV}, {"abort", {}, SIGABRT}, {"terminate", {}, SIGABRT}, {"exit3", 3, {}}};

procxy::Options crash_options() {
  // Under a sanitizer the child would report abort() and exit with code 1;
  // these tests are about how procxy reports the death itself.
  procxy::Options options;
  for (const char* variable : {"ASAN_OPTIONS", "TSAN_OPTIONS"}) {
    const char* value = std::getenv(variable);
    options.env[variable] = std::string(value ? value : "") + ":handle_segv=0:handle_abort=0";
  }
  return options;
}

std::string stamp_path(const std::string& how) {
  return (std::filesystem::temp_directory_path() / ("procxy_e2e_stamp_" + std::to_string(::getpid()) + "_" + how))
      .string();
}

// When the child wrote its stamp, just before dying.
Clock::time_point read_stamp(const std::string& path) {
  std::ifstream in(path);
  Clock::rep ticks = 0;
  in >> ticks;
  std::filesystem::remove(path);
  return Clock::time_point(Clock::duration(ticks));
}

void check_gone(procxy::Proxy<Service>& service, pid_t pid, const Death& death) {
  CHECK_FALSE(service.alive());
  procxy::ExitStatus status = service.wait();
  CHECK(status.exit_code == death.exit_code);
  CHECK(status.signal == death.signal);
  auto live = procxy::children();
  CHECK(std::find(live.begin(), live.end(), pid) == live.end());
  CHECK_FALSE(e2e::process_exists(pid));                          // reaped: no zombie
  CHECK_THROWS_AS(service->add(1, 2), procxy::ChildExitedError);  // later calls fail the same way
}

}  // namespace

TEST_CASE("a death mid-call fails it and the 63 calls queued behind it within 100 ms", "[faults]") {
  for (const Death& death : kDeaths) {
    DYNAMIC_SECTION("death by " << death.how) {
      auto service = procxy::spawn<Service>(crash_options());
      pid_t pid = service.pid();
      std::promise<procxy::ExitStatus> exit;
      service.on_exit([&](const procxy::ExitStatus& status) { exit.set_value(status); });
      std::string stamp = stamp_path(death.how);
      std::vector<std::future<int>> queued;
      std::future<void> crash = service.async()->crash(death.how, stamp);
      for (int i = 0; i < 63; ++i) queued.push_back(service.async()->add(i, i));
      int failed = 0;
      try {
        crash.get();
        FAIL("the crash call returned");
      } catch (const procxy::ChildExitedError& e) {
        ++failed;
        CHECK(e.exit_code() == death.exit_code);
        CHECK(e.signal() == death.signal);
        CHECK_THAT(e.what(), Catch::Contains("e2e::Service::crash") && Catch::Contains(std::to_string(pid)));
      }
      for (auto& call : queued) {
        try {
          call.get();
        } catch (const procxy::ChildExitedError&) {
          ++failed;
        }
      }
      Clock::time_point all_failed = Clock::now();
      CHECK(failed == 64);  // none lost, none answered
      CHECK(all_failed - read_stamp(stamp) < e2e::bound(std::chrono::milliseconds(100)));
      auto status = exit.get_future();
      REQUIRE(status.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
      CHECK(status.get().signal == death.signal);  // on_exit reports it
      check_gone(service, pid, death);
    }
  }
}

TEST_CASE("a death between calls is reported at once and fails later calls", "[faults]") {
  for (const Death& death : kDeaths) {
    DYNAMIC_SECTION("death by " << death.how) {
      auto service = procxy::spawn<Service>(crash_options());
      pid_t pid = service.pid();
      std::promise<Clock::time_point> exited;
      service.on_exit([&](const procxy::ExitStatus&) { exited.set_value(Clock::now()); });
      std::string stamp = stamp_path(death.how + "_idle");
      service->crash_later(death.how, 50, stamp);  // a thread of the object, while no call runs
      auto reported = exited.get_future();
      REQUIRE(reported.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
      CHECK(reported.get() - read_stamp(stamp) < e2e::bound(std::chrono::milliseconds(100)));
      check_gone(service, pid, death);
    }
  }
}

TEST_CASE("a hung child fails the call and the 63 behind it at their timeouts", "[faults]") {
  auto service = procxy::spawn<Service>();
  procxy::CallOptions quick{.timeout = std::chrono::milliseconds(300)};  // per call: the start is not timed
  auto start = Clock::now();
  std::future<void> hang = service.with(quick).async()->crash("hang");
  std::vector<std::future<int>> queued;
  for (int i = 0; i < 63; ++i) queued.push_back(service.with(quick).async()->add(i, i));
  int timed_out = 0;
  try {
    hang.get();
  } catch (const procxy::TimeoutError&) {
    ++timed_out;
  }
  for (auto& call : queued) {
    try {
      call.get();
    } catch (const procxy::TimeoutError&) {
      ++timed_out;
    }
  }
  auto waited = Clock::now() - start;
  CHECK(timed_out == 64);
  CHECK(waited >= std::chrono::milliseconds(300));
  CHECK(waited < std::chrono::milliseconds(300) + e2e::bound(std::chrono::milliseconds(500)));
  CHECK(service.alive());  // a timeout does not kill the child (no kill_on_timeout)
}

TEST_CASE("mutations that timed out while queued behind a slow call never run", "[faults]") {
  // Concurrency 1, and the slow call never asks for its stop token: nobody in
  // the child reads while it runs, so the Cancels wait in the socket behind
  // the calls they cancel. That holds only if the parent noticed every
  // timeout (and wrote its Cancel) before the slow call could have ended: on
  // a machine too loaded for that, the attempt proves nothing, and the next
  // one gives the slow call twice as long.
  for (auto slow_ms = std::chrono::milliseconds(1500); slow_ms <= std::chrono::milliseconds(6000); slow_ms *= 2) {
    auto service = procxy::spawn<Service>();
    procxy::CallOptions quick{.timeout = std::chrono::milliseconds(100)};
    procxy::CallOptions patient{.timeout = e2e::bound(std::chrono::milliseconds(20'000))};
    auto issued = std::chrono::steady_clock::now();
    std::future<void> slow = service.with(patient).async()->sleep_ms(static_cast<int>(slow_ms.count()));
    std::vector<std::future<int>> queued;
    for (int i = 0; i < 64; ++i) queued.push_back(service.with(quick).async()->slow_mutation(i, 0));
    int timed_out = 0;
    for (auto& call : queued) {
      try {
        call.get();
      } catch (const procxy::TimeoutError&) {
        ++timed_out;
      }
    }
    try {
      service.with(quick)->slow_mutation(-1, 0);  // a synchronous caller's timeout, too
    } catch (const procxy::TimeoutError&) {
      ++timed_out;
    }
    bool noticed_in_time = std::chrono::steady_clock::now() < issued + slow_ms;
    slow.get();
    if (!noticed_in_time) continue;
    CHECK(timed_out == 65);
    CHECK(service->runs("slow_mutation") == 0);  // none of the timed-out ones ran
    return;
  }
  FAIL("the parent never noticed 65 timeouts of 100 ms within 6 s: the machine is too loaded for this test");
}

TEST_CASE("a blocked synchronous caller learns of the child's death at once", "[faults]") {
  auto service = procxy::spawn<Service>();
  std::thread killer([pid = service.pid()] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ::kill(pid, SIGKILL);
  });
  auto start = std::chrono::steady_clock::now();
  try {
    service->sleep_ms(10'000);
    FAIL("returned");
  } catch (const procxy::ChildExitedError& e) {
    CHECK(e.signal() == SIGKILL);
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  killer.join();
}

TEST_CASE("terminate() ends the child; pending and later calls fail with TerminatedError", "[faults]") {
  auto service = procxy::spawn<Service>();
  auto pending = service.async()->sleep_ms(30'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  service.terminate(std::chrono::milliseconds(200));  // the child is busy: killed after the grace
  CHECK_THROWS_AS(pending.get(), procxy::TerminatedError);
  CHECK_THROWS_AS(service->add(1, 1), procxy::TerminatedError);
  CHECK_FALSE(service.alive());
  CHECK(service.wait().signal == SIGKILL);

  auto idle = procxy::spawn<Service>();
  idle.terminate();
  CHECK(idle.wait().exit_code == 0);  // an idle child exits cleanly when asked
}

TEST_CASE("kill() ends the child with SIGKILL", "[faults]") {
  auto service = procxy::spawn<Service>();
  service.kill();
  CHECK(service.wait().signal == SIGKILL);
  CHECK_THROWS_AS(service->add(1, 1), procxy::TerminatedError);
}

TEST_CASE("an executable that cannot run gives a SpawnError naming it", "[faults]") {
  procxy::Options options;
  options.executable = "/nonexistent/agent";
  try {
    procxy::spawn<Service>(options);
    FAIL("spawned");
  } catch (const procxy::SpawnError& e) {
    CHECK_THAT(e.what(), Catch::Contains("/nonexistent/agent") && Catch::Contains("No such file"));
  }
  options.executable = "/bin/true";
  try {
    procxy::spawn<Service>(options);
    FAIL("spawned");
  } catch (const procxy::SpawnError& e) {
    CHECK_THAT(e.what(), Catch::Contains("exited with code 0") && Catch::Contains("serve_if_child"));
  }
  procxy::Options bad_cwd;
  bad_cwd.cwd = "/nonexistent/dir";
  CHECK_THROWS_WITH(procxy::spawn<Service>(bad_cwd), Catch::Contains("/nonexistent/dir"));
}

TEST_CASE("an agent refuses a class it does not have and an interface that differs", "[faults]") {
  procxy::Options agent;
  agent.executable = E2E_AGENT;
  CHECK_THROWS_WITH(procxy::spawn<e2e::Extra>(agent),
                    Catch::Contains("e2e::Extra") && Catch::Contains("not registered"));
  procxy::Options mismatch;
  mismatch.executable = E2E_MISMATCH_AGENT;
  CHECK_THROWS_WITH(procxy::spawn<Service>(mismatch), Catch::Contains("interface mismatch"));
}

TEST_CASE("a program that never calls serve_if_child is refused before its main runs again", "[faults]") {
  FILE* out = ::popen(E2E_NO_SERVE, "r");
  REQUIRE(out != nullptr);
  std::string text;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, out)) text += buffer;
  CHECK(::pclose(out) == 0);
  CHECK_THAT(text, Catch::Contains("SpawnError") && Catch::Contains("serve_if_child(argc, argv)"));
  size_t first = text.find("main ran");
  REQUIRE(first != std::string::npos);
  CHECK(text.find("main ran", first + 1) == std::string::npos);  // main() ran once: in the parent
}
