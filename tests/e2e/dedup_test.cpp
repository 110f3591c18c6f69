// Creation dedup (SPEC §5): identical spawns share one child, different keys
// never do, and a failed start is shared by its waiters and then forgotten.

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <optional>
#include <set>
#include <thread>

#include "service.procxy.h"
#include "test_support.h"

using e2e::Fragile;
using e2e::Service;

namespace {

// The pids in `after` that are not in `before`.
std::set<pid_t> new_children(const std::vector<pid_t>& before, const std::vector<pid_t>& after) {
  std::set<pid_t> fresh;
  for (pid_t pid : after) {
    if (std::find(before.begin(), before.end(), pid) == before.end()) fresh.insert(pid);
  }
  return fresh;
}

}  // namespace

TEST_CASE("20 simultaneous identical spawns start exactly one child", "[dedup]") {
  std::vector<pid_t> before = procxy::children();
  std::vector<std::optional<procxy::Proxy<Service>>> proxies(20);
  e2e::at_once(20, [&](int i) { proxies[i].emplace(procxy::spawn<Service>(7)); });

  std::set<pid_t> pids;
  for (auto& proxy : proxies) pids.insert(proxy->pid());
  CHECK(pids.size() == 1);
  CHECK(new_children(before, procxy::children()) == pids);
  // One object: state set through one handle is seen through another.
  (*proxies[0])->increment();
  CHECK((*proxies[19])->increment() == 2);
}

TEST_CASE("simultaneous spawns with two keys start two children", "[dedup]") {
  std::vector<pid_t> before = procxy::children();
  std::vector<std::optional<procxy::Proxy<Service>>> proxies(20);
  e2e::at_once(20, [&](int i) { proxies[i].emplace(procxy::spawn<Service>(i % 2)); });

  std::set<pid_t> pids;
  for (int i = 0; i < 20; ++i) {
    CHECK(proxies[i]->pid() == proxies[i % 2]->pid());
    CHECK((*proxies[i])->base() == i % 2);
    pids.insert(proxies[i]->pid());
  }
  CHECK(pids.size() == 2);
  CHECK(new_children(before, procxy::children()) == pids);
}

TEST_CASE("a later identical spawn gets the live instance; after the last handle, a new child", "[dedup]") {
  pid_t first = 0;
  {
    auto a = procxy::spawn<Service>(3);
    auto b = procxy::spawn<Service>(3);
    CHECK(b.pid() == a.pid());
    first = a.pid();
  }
  auto c = procxy::spawn<Service>(3);
  CHECK(c.pid() != first);
  CHECK(c->base() == 3);
}

TEST_CASE("different keys never share a child", "[dedup]") {
  auto plain = procxy::spawn<Service>(1);
  pid_t pid = plain.pid();

  CHECK(procxy::spawn<Service>(2).pid() != pid);                    // constructor arguments
  CHECK(procxy::spawn<Service>(std::string("n"), 1).pid() != pid);  // constructor form

  procxy::Options env;
  env.env["E2E_KEY"] = "1";
  CHECK(procxy::spawn<Service>(env, 1).pid() != pid);

  procxy::Options cwd;
  cwd.cwd = std::filesystem::temp_directory_path();
  CHECK(procxy::spawn<Service>(cwd, 1).pid() != pid);

  procxy::Options args;
  args.args = {"--extra"};
  CHECK(procxy::spawn<Service>(args, 1).pid() != pid);

  procxy::Options agent;
  agent.executable = E2E_AGENT;
  CHECK(procxy::spawn<Service>(agent, 1).pid() != pid);

  procxy::Options timeout;
  timeout.timeout = std::chrono::seconds(29);  // calls through a shared proxy keep their own options
  CHECK(procxy::spawn<Service>(timeout, 1).pid() != pid);

  procxy::Options separate;
  separate.dedupe = false;
  auto one = procxy::spawn<Service>(separate, 1);
  auto two = procxy::spawn<Service>(separate, 1);
  CHECK(one.pid() != pid);
  CHECK(two.pid() != one.pid());

  CHECK(procxy::spawn<Service>(1).pid() == pid);  // and the same key still shares
}

TEST_CASE("a dead instance is not handed out again", "[dedup]") {
  auto dying = procxy::spawn<Service>(4);
  pid_t dead = dying.pid();
  dying.kill();
  auto fresh = procxy::spawn<Service>(4);
  CHECK(fresh.pid() != dead);
  CHECK(fresh->base() == 4);
}

TEST_CASE("a failed start reaches every waiting caller and is not remembered", "[dedup]") {
  std::vector<std::exception_ptr> failures(10);
  e2e::at_once(10, [&](int i) {
    try {
      procxy::spawn<Fragile>(-1);
    } catch (...) {
      failures[i] = std::current_exception();  // read here, on one thread: see tests/tsan.supp
    }
  });
  std::vector<std::string> errors;
  for (const auto& failure : failures) {
    try {
      std::rethrow_exception(failure);
    } catch (const procxy::SpawnError& e) {
      errors.push_back(e.what());
    } catch (...) {
      errors.push_back("not a SpawnError");
    }
  }
  // One start: every caller saw the same error, from the same child.
  CHECK_THAT(errors[0], Catch::Contains("code must not be negative"));
  CHECK(std::count(errors.begin(), errors.end(), errors[0]) == 10);

  std::string again;
  try {
    procxy::spawn<Fragile>(-1);
  } catch (const procxy::SpawnError& e) {
    again = e.what();
  }
  CHECK_THAT(again, Catch::Contains("code must not be negative"));
  CHECK(again != errors[0]);  // a new start, in a new child (its pid is in the message)

  CHECK(procxy::spawn<Fragile>(1)->code() == 1);
}

TEST_CASE("PROCXY_DEBUG=dedup,coalesce logs misses, hits and cache hits", "[dedup][coalesce]") {
  std::string command = std::string("PROCXY_DEBUG=dedup,coalesce '") + E2E_SELF + "' --dedup-and-coalesce 2>&1";
  int status = 0;
  std::string text = e2e::output_of(command, status);
  CHECK(status == 0);
  CHECK_THAT(text, Catch::Contains("dedup miss: starting e2e::Service") &&
                       Catch::Contains("dedup hit: waiting for the start of e2e::Service in progress") &&
                       Catch::Contains("dedup cached: e2e::Service in child") &&
                       Catch::Contains("coalesce hit: e2e::Service::slow_query joins call") &&
                       Catch::Contains("cache hit: e2e::Service::cached_square"));
}
