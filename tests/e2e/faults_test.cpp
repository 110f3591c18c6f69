// Failures a user meets: exceptions from the child, a child that dies
// mid-call, terminate/kill, and failed starts.

#include <signal.h>

#include <catch2/catch.hpp>
#include <cstdlib>

#include "extra.procxy.h"
#include "service.procxy.h"

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

TEST_CASE("a child that dies mid-call fails that call and every pending one", "[faults]") {
  struct Case {
    std::string how;
    std::optional<int> exit_code;
    std::optional<int> signal;
  };
  for (const Case& c : {Case{"segv", {}, SIGSEGV}, Case{"abort", {}, SIGABRT}, Case{"exit3", 3, {}}}) {
    DYNAMIC_SECTION("crash by " << c.how) {
      // Under a sanitizer the child would report the signal and exit with
      // code 1; the test is about how procxy reports a death by signal.
      procxy::Options options;
      for (const char* variable : {"ASAN_OPTIONS", "TSAN_OPTIONS"}) {
        const char* value = std::getenv(variable);
        options.env[variable] = std::string(value ? value : "") + ":handle_segv=0:handle_abort=0";
      }
      auto service = procxy::spawn<Service>(options);
      pid_t pid = service.pid();
      // Calls queued behind the crash: they must fail too, not hang.
      std::future<void> crash = service.async()->crash(c.how);
      std::vector<std::future<int>> queued;
      for (int i = 0; i < 16; ++i) queued.push_back(service.async()->add(i, i));
      try {
        crash.get();
        FAIL("the crash call returned");
      } catch (const procxy::ChildExitedError& e) {
        CHECK(e.exit_code() == c.exit_code);
        CHECK(e.signal() == c.signal);
        CHECK_THAT(e.what(), Catch::Contains("e2e::Service::crash") && Catch::Contains(std::to_string(pid)));
      }
      for (auto& call : queued) CHECK_THROWS_AS(call.get(), procxy::ChildExitedError);
      CHECK_THROWS_AS(service->add(1, 2), procxy::ChildExitedError);  // later calls too
      CHECK_FALSE(service.alive());
      procxy::ExitStatus status = service.wait();
      CHECK(status.exit_code == c.exit_code);
      CHECK(status.signal == c.signal);
      auto live = procxy::children();
      CHECK(std::find(live.begin(), live.end(), pid) == live.end());  // reaped: no zombie
    }
  }
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
