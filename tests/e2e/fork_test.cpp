// A proxy in a process forked without exec (SPEC §15): inert there, and the
// original parent's child is untouched.

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <optional>
#include <string>

#include "service.procxy.h"
#include "test_support.h"

using e2e::Service;

namespace {

// What the forked process saw; 0 when all went as it should.
enum Outcome : int {
  kOk = 0,
  kCallWorked = 10,
  kWrongMessage,
  kAsyncWorked,
  kOnWorked,
  kOffWorked,
  kNotProcxyError,
};

// Whether calling `call` throws procxy::Error naming the fork.
template <class F>
int expect_inert(F call, int worked) {
  try {
    call();
    return worked;
  } catch (const procxy::Error& e) {
    std::string text = e.what();
    bool says = text.find("belongs to process " + std::to_string(::getppid())) != std::string::npos &&
                text.find("fork of it without exec") != std::string::npos;
    return says ? kOk : kWrongMessage;
  } catch (...) {
    return kNotProcxyError;
  }
}

// In the fork: every use of the proxy and of its subscription throws, and
// destroying them returns. Never returns: the fork ends with _exit().
[[noreturn]] void in_fork(std::optional<procxy::Proxy<Service>>& service, procxy::Subscription& subscription) {
  ::alarm(30);  // a hang in here ends the fork (SIGALRM), which the test sees
  int outcome = expect_inert([&] { (*service)->add(1, 2); }, kCallWorked);
  if (outcome == kOk) outcome = expect_inert([&] { service->async()->add(1, 2).get(); }, kAsyncWorked);
  if (outcome == kOk) outcome = expect_inert([&] { service->on(&Service::progress, [](int) {}); }, kOnWorked);
  if (outcome == kOk) outcome = expect_inert([&] { subscription.off(); }, kOffWorked);
  service.reset();  // must not touch the parent's child, nor hang
  ::_exit(outcome);
}

// Forks; the fork runs in_fork(). Returns how the fork ended.
int run_fork(std::optional<procxy::Proxy<Service>>& service, procxy::Subscription& subscription) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) in_fork(service, subscription);
  int status = 0;
  bool ended =
      e2e::eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, e2e::bound(std::chrono::seconds(40)));
  if (!ended) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  REQUIRE(ended);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("a proxy is inert in a process forked without exec", "[fork]") {
  std::optional<procxy::Proxy<Service>> service(procxy::spawn<Service>());
  bool async_first = GENERATE(false, true);
  INFO("async() used before the fork: " << async_first);
  if (async_first) CHECK(service->async()->add(2, 3).get() == 5);  // starts the helper thread
  CHECK((*service)->add(1, 1) == 2);
  procxy::Subscription subscription = service->on(&Service::progress, [](int) {});

  CHECK(run_fork(service, subscription) == kOk);

  // The parent's child saw nothing of it.
  CHECK(service->alive());
  CHECK((*service)->add(20, 22) == 42);
  CHECK(service->async()->add(1, 2).get() == 3);
  CHECK(subscription.active());
}
