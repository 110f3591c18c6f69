// SPEC §9: Options are checked in the parent, before anything starts, and a
// relative Options::executable is found next to this program.

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "service.procxy.h"
#include "shared_support.h"
#include "test_support.h"

using e2e::Service;
using namespace std::chrono_literals;

namespace {

// What spawn() and attach() throw for `options`; they must throw
// std::invalid_argument, and start no child.
std::string rejection(const procxy::Options& options) {
  std::vector<pid_t> before = procxy::children();
  std::string spawn_error, attach_error;
  try {
    procxy::spawn<Service>(options);
  } catch (const std::invalid_argument& e) {
    spawn_error = e.what();
  }
  try {
    procxy::attach<Service>(e2e::unique_name("options"), options);
  } catch (const std::invalid_argument& e) {
    attach_error = e.what();
  }
  for (pid_t pid : procxy::children()) {  // children of earlier tests may leave meanwhile; none may come
    CHECK(std::find(before.begin(), before.end(), pid) != before.end());
  }
  CHECK(spawn_error.rfind("procxy: parent: spawn(): Options::", 0) == 0);
  CHECK(attach_error.rfind("procxy: parent: attach(): Options::", 0) == 0);
  CHECK(spawn_error.substr(spawn_error.find("Options::")) == attach_error.substr(attach_error.find("Options::")));
  return spawn_error;
}

procxy::Options with_env(const std::string& name, const std::string& value) {
  procxy::Options options;
  options.env[name] = value;
  return options;
}

}  // namespace

TEST_CASE("env names that would corrupt the child's environment are refused", "[options]") {
  CHECK_THAT(rejection(with_env("A=B", "1")), Catch::Contains("Options::env[\"A=B\"]") && Catch::Contains("'='"));
  CHECK_THAT(rejection(with_env("", "1")), Catch::Contains("Options::env has an empty variable name"));
  CHECK_THAT(rejection(with_env(std::string("A\0B", 3), "1")),
             Catch::Contains("Options::env[\"A\\0B\"]") && Catch::Contains("NUL"));
  CHECK_THAT(rejection(with_env("A", std::string("x\0y", 3))), Catch::Contains("is \"x\\0y\", which holds a NUL"));
  CHECK_THAT(rejection(with_env("PROCXY_CHILD_FD", "9")),
             Catch::Contains("Options::env[\"PROCXY_CHILD_FD\"]") && Catch::Contains("procxy reserves"));
  CHECK_THAT(rejection(with_env("PROCXY_DEBUG", "all")), Catch::Contains("procxy reserves"));

  // What is valid still arrives whole.
  auto service = procxy::spawn<Service>(with_env("E2E_VALUE", "B=1"));
  CHECK(service->env("E2E_VALUE") == "B=1");
}

TEST_CASE("negative times and counts are refused, naming the field and the value", "[options]") {
  procxy::Options options;
  options.timeout = -1ms;
  CHECK_THAT(rejection(options), Catch::Contains("Options::timeout is -1 ms"));
  options = {};
  options.idle_exit = -5ms;
  CHECK_THAT(rejection(options), Catch::Contains("Options::idle_exit is -5 ms"));
  options = {};
  options.retries = -2;
  CHECK_THAT(rejection(options), Catch::Contains("Options::retries is -2"));
  options = {};
  options.concurrency = 0;
  CHECK_THAT(rejection(options), Catch::Contains("Options::concurrency is 0") && Catch::Contains("at least 1"));
  options = {};
  options.limits.memory = 0;
  CHECK_THAT(rejection(options), Catch::Contains("Options::limits.memory is 0 bytes"));
  options = {};
  options.limits.cpu = -1s;
  CHECK_THAT(rejection(options), Catch::Contains("Options::limits.cpu is -1 s"));
  options = {};
  options.limits.cpu = 0s;
  CHECK_THAT(rejection(options), Catch::Contains("Options::limits.cpu is 0 s"));
  options = {};
  options.limits.open_files = 0;
  CHECK_THAT(rejection(options), Catch::Contains("Options::limits.open_files is 0"));
  options = {};
  options.limits.open_files = -3;
  CHECK_THAT(rejection(options), Catch::Contains("Options::limits.open_files is -3"));
  options = {};
  options.limits.max_rss = 0;
  CHECK_THAT(rejection(options), Catch::Contains("Options::limits.max_rss is 0 bytes"));
  options = {};
  options.args = {"fine", std::string("a\0b", 3)};
  CHECK_THAT(rejection(options), Catch::Contains("Options::args[1] is \"a\\0b\""));

  auto service = procxy::spawn<Service>();
  CHECK_THROWS_MATCHES(service.with({.timeout = -1ms})->add(1, 2), std::invalid_argument,
                       Catch::Matchers::Message("procxy: parent: CallOptions::timeout is -1 ms; it must be positive, "
                                                "or zero for no limit"));
  CHECK(service.with({.timeout = 0ms})->add(1, 2) == 3);  // zero: no limit
}

TEST_CASE("a relative executable is found next to this program, wherever it was started from", "[options]") {
  std::filesystem::path agent = E2E_AGENT;
  // Both are built into the same directory; the test runs elsewhere.
  REQUIRE(agent.parent_path() == std::filesystem::path(E2E_SELF).parent_path());
  std::filesystem::path before = std::filesystem::current_path();
  std::filesystem::current_path("/");
  procxy::Options options;
  options.executable = agent.filename();
  std::string argv0;
  try {
    auto service = procxy::spawn<Service>(options, 4);
    argv0 = service->argv().at(0);
    CHECK(service->add(1, 1) == 6);
  } catch (...) {
    std::filesystem::current_path(before);
    throw;
  }
  std::filesystem::current_path(before);
  CHECK(argv0 == agent.string());

  options.executable = "no-such-agent";
  CHECK_THROWS_WITH(procxy::spawn<Service>(options), Catch::Contains((agent.parent_path() / "no-such-agent").string()));
}
