// Shared children across processes (SPEC §7): real processes attaching at
// once, killed starters and children, refused clients, idle exit.

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "service.procxy.h"
#include "shared_support.h"
#include "test_support.h"

namespace {

using namespace std::chrono_literals;
using namespace e2e;
using Catch::Matchers::Contains;

// The "pid <pid> sum <sum>" lines of --attach clients: pid -> how many.
std::map<pid_t, int> attached_pids(const std::string& output) {
  std::map<pid_t, int> pids;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    int pid = 0, sum = 0;
    if (std::sscanf(line.c_str(), "pid %d sum %d", &pid, &sum) == 2 && sum == 5) ++pids[pid];
  }
  return pids;
}

int count_of(const std::string& text, const std::string& what) {
  int count = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

std::string attach_command(const std::string& name, long long at_ns = 0) {
  return std::string("PROCXY_DEBUG=attach ") + E2E_SELF + " --attach " + name + " " + std::to_string(at_ns) +
         " 10000 2>&1";
}

}  // namespace

TEST_CASE("processes attaching at the same instant start exactly one shared child", "[attach]") {
  int repetitions = e2e::kSanitized ? 5 : 20;
  for (int rep = 0; rep < repetitions; ++rep) {
    std::string name = unique_name("race");
    auto at = std::chrono::system_clock::now() + (e2e::kSanitized ? 3s : 500ms);
    long long at_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
    std::string one = attach_command(name, at_ns);
    int status = 0;
    std::string output = e2e::output_of("for i in 1 2 3 4 5 6 7 8 9 10; do " + one + " & done; wait", status);
    INFO("repetition " << rep << ":\n" << output);
    auto pids = attached_pids(output);
    REQUIRE(pids.size() == 1);  // one child, and every process got it
    CHECK(pids.begin()->second == 10);
    CHECK(count_of(output, "starting shared child") == 1);
    kill_shared(pids.begin()->first, name);
  }
}

TEST_CASE("a starter killed while it holds the start lock does not block the others", "[attach]") {
  std::string name = unique_name("starter");
  std::string construct_ms = std::to_string(e2e::kSanitized ? 4000 : 1500);
  std::string environment = "E2E_CONSTRUCT_MS=" + construct_ms;  // the shared child takes this long to start
  std::vector<char*> envp;
  for (char** entry = environ; *entry; ++entry) envp.push_back(*entry);
  envp.push_back(environment.data());
  envp.push_back(nullptr);
  std::string self = E2E_SELF, flag = "--attach", at = "0", idle = "10000";
  char* argv[] = {self.data(), flag.data(), name.data(), at.data(), idle.data(), nullptr};
  pid_t starter;
  REQUIRE(::posix_spawn(&starter, E2E_SELF, nullptr, nullptr, argv, envp.data()) == 0);
  // Killed once the child is constructing: the start lock is held, by the
  // starter and by the child, which keeps it until it listens.
  REQUIRE(
      e2e::eventually([&] { return log_of(name).find("e2e: constructing") != std::string::npos; }, e2e::bound(10s)));
  ::kill(starter, SIGKILL);
  int status;
  ::waitpid(starter, &status, 0);

  auto begin = std::chrono::steady_clock::now();
  std::string output = e2e::output_of(attach_command(name), status);
  INFO(output);
  auto pids = attached_pids(output);
  REQUIRE(pids.size() == 1);
  CHECK_THAT(output, Contains("start already in progress, waiting"));
  CHECK_THAT(output, !Contains("starting shared child"));  // the killed starter's child serves
  CHECK(std::chrono::steady_clock::now() - begin < e2e::bound(10s));
  kill_shared(pids.begin()->first, name);
}

TEST_CASE("a killed shared child is replaced on the next attach, and its stale socket removed", "[attach]") {
  std::string name = unique_name("replace");
  auto first = procxy::attach<e2e::Service>(name, shared_options());
  pid_t old_pid = first.pid();
  CHECK(first->add(1, 1) == 2);
  REQUIRE(exists(socket_of(name)));

  ::kill(old_pid, SIGKILL);
  REQUIRE(e2e::eventually([&] { return !e2e::process_running(old_pid); }, e2e::bound(10s)));
  CHECK(exists(socket_of(name)));  // stale: nobody removed it
  CHECK_THROWS_AS(first->add(1, 1), procxy::ChildExitedError);
  CHECK_FALSE(first.alive());

  int status = 0;
  std::string output = e2e::output_of(attach_command(name), status);
  INFO(output);
  auto pids = attached_pids(output);
  REQUIRE(pids.size() == 1);
  CHECK(pids.begin()->first != old_pid);
  CHECK_THAT(output, Contains("removed stale socket"));
  CHECK_THAT(output, Contains("starting shared child"));
  kill_shared(pids.begin()->first, name);
}

TEST_CASE("a client built from another interface is refused, on both sides", "[attach]") {
  int status = 0;
  SECTION("the child runs this interface; the client another") {
    std::string name = unique_name("mismatch");
    auto service = procxy::attach<e2e::Service>(name, shared_options());
    std::string output = e2e::output_of(std::string(E2E_MISMATCH_CLIENT) + " " + name + " 2>&1", status);
    INFO(output);
    CHECK(status != 0);
    CHECK_THAT(output, Contains("interface mismatch") && Contains("rebuild both from the same sources"));
    CHECK_THAT(log_of(name), Contains("interface mismatch"));  // the child's side
    CHECK(service->add(2, 3) == 5);                            // and it serves its own clients on
    kill_shared(service.pid(), name);
  }
  SECTION("the child runs another interface; this client is refused") {
    std::string name = unique_name("mismatch");
    std::string output = e2e::output_of(std::string(E2E_MISMATCH_CLIENT) + " " + name + " 2>&1", status);
    INFO(output);
    auto pids = attached_pids(output);
    REQUIRE(pids.size() == 1);
    CHECK_THROWS_WITH(procxy::attach<e2e::Service>(name, shared_options()),
                      Contains("interface mismatch") && Contains("child " + std::to_string(pids.begin()->first)));
    kill_shared(pids.begin()->first, name);
  }
}

TEST_CASE("a shared child exits once no client has been connected for idle_exit, removing its socket", "[attach]") {
  std::string name = unique_name("idle");
  pid_t pid;
  {
    auto service = procxy::attach<e2e::Service>(name, shared_options(300ms));
    pid = service.pid();
    std::this_thread::sleep_for(700ms);  // connected all along: not idle
    CHECK(service->add(1, 2) == 3);
    CHECK(e2e::process_running(pid));
  }
  CHECK(e2e::eventually([&] { return !e2e::process_running(pid); }, e2e::bound(10s)));
  CHECK_FALSE(exists(socket_of(name)));
  forget(name);
}

TEST_CASE("one shared child serves many clients: calls one at a time, events to each subscriber", "[attach]") {
  std::string name = unique_name("clients");
  auto a = procxy::attach<e2e::Service>(name, shared_options());
  auto b = procxy::attach<e2e::Service>(name, shared_options());  // a second connection to the same child
  REQUIRE(a.pid() == b.pid());

  auto begin = std::chrono::steady_clock::now();
  auto from_a = a.async()->slow_mutation(1, 300);
  auto from_b = b.async()->slow_mutation(2, 300);
  CHECK(from_a.get() + from_b.get() == 3);
  CHECK(std::chrono::steady_clock::now() - begin >= 600ms);  // never both at once

  std::atomic<int> seen_a{0}, seen_b{0};
  a.on(&e2e::Service::progress, [&](int) { ++seen_a; });
  b.on(&e2e::Service::progress, [&](int) { ++seen_b; });
  // on() returned: the child has b's subscription, and a's call reaches b.
  a->emit_progress(5);
  CHECK(seen_a == 5);
  CHECK(e2e::eventually([&] { return seen_b == 5; }, e2e::bound(5s)));

  // Each time: a new client subscribes, and another's call at once emits.
  for (int i = 0; i < 20; ++i) {
    auto c = procxy::attach<e2e::Service>(name, shared_options());
    std::atomic<int> seen_c{0};
    c.on(&e2e::Service::progress, [&](int) { ++seen_c; });
    a->emit_progress(1);
    CHECK(e2e::eventually([&] { return seen_c == 1; }, e2e::bound(5s)));
  }

  // A client that leaves takes its subscriptions along; the others go on.
  b.terminate();
  CHECK_FALSE(b.alive());
  a->emit_progress(3);
  CHECK(seen_a == 28);
  CHECK(seen_b == 25);
  int status = 0;
  std::string output = e2e::output_of(attach_command(name), status);  // a process that comes and goes
  CHECK(attached_pids(output).count(a.pid()) == 1);
  CHECK(a->add(2, 2) == 4);
  kill_shared(a.pid(), name);
}

TEST_CASE("on() waits for a shared child's confirmation, and one that does not come is a timeout", "[attach]") {
  std::string name = unique_name("confirm");
  auto a = procxy::attach<e2e::Service>(name, shared_options());
  procxy::Options quick = shared_options();
  quick.timeout = 2s;  // also bounds b's calls below: generous under the sanitizers
  auto b = procxy::attach<e2e::Service>(name, quick);
  std::atomic<int> seen{0};

  ::kill(a.pid(), SIGSTOP);  // nothing answers
  REQUIRE(e2e::eventually([&] { return e2e::all_threads_stopped(a.pid()); }, e2e::bound(5s)));
  CHECK_THROWS_MATCHES(b.on(&e2e::Service::progress, [&](int) { ++seen; }), procxy::TimeoutError,
                       Catch::Matchers::Predicate<procxy::TimeoutError>([](const procxy::TimeoutError& e) {
                         std::string what = e.what();
                         return what.find("procxy: parent: on(e2e::Service::progress) on child") == 0 &&
                                what.find("timed out: no reply within its limit of 2000 ms (Options::timeout)") !=
                                    std::string::npos;
                       }));
  ::kill(a.pid(), SIGCONT);
  a->emit_progress(2);       // the child has the subscription by now, but b has no listener
  CHECK(b->add(1, 1) == 2);  // b has read past the events a's call sent it
  CHECK(seen == 0);

  b.on(&e2e::Service::progress, [&](int) { ++seen; });
  a->emit_progress(1);
  CHECK(e2e::eventually([&] { return seen == 1; }, e2e::bound(5s)));
  kill_shared(a.pid(), name);
}

TEST_CASE("a shared child refuses a client of another user", "[attach]") {
  if (::geteuid() != 0) {
    WARN("skipped: running a client as another uid needs root (setpriv)");
    return;
  }
  std::string name = unique_name("peer");
  auto service = procxy::attach<e2e::Service>(name, shared_options());
  // The socket is reachable only through the owner's 0700 directory: give
  // the other user a path to it, as a misconfigured system might.
  namespace fs = std::filesystem;
  fs::path root = scratch_for_nobody("peer", "procxy");
  fs::path dir = root / "procxy";
  REQUIRE(::link(socket_of(name).c_str(), (dir / (name + ".sock")).c_str()) == 0);
  fs::permissions(dir / (name + ".sock"), fs::perms(0777));

  int status = 0;
  // (env -u: the sanitizer options may name a file that user cannot read.)
  std::string output = e2e::output_of("env -u TSAN_OPTIONS XDG_RUNTIME_DIR=" + root.string() +
                                          " setpriv --reuid=65534 --regid=65534 --clear-groups " +
                                          (root / "client").string() + " --attach " + name + " 0 1000 2>&1",
                                      status);
  INFO(output);
  CHECK(status != 0);
  CHECK_THAT(output, Contains("runs as uid 0, not as this user (uid 65534)"));  // the client's side
  CHECK(e2e::eventually([&] { return log_of(name).find("of uid 65534") != std::string::npos; }, e2e::bound(5s)));
  CHECK_THAT(log_of(name), Contains("refused process") && Contains("serves uid 0 only"));  // the child's
  CHECK(service->add(2, 3) == 5);
  fs::remove_all(root);
  kill_shared(service.pid(), name);
}

TEST_CASE("attach refuses a bad name and a runtime directory others may enter", "[attach]") {
  CHECK_THROWS_WITH(procxy::attach<e2e::Service>("../elsewhere", shared_options()),
                    Contains("cannot name a shared child"));
  CHECK_THROWS_WITH(procxy::attach<e2e::Service>("", shared_options()), Contains("cannot name a shared child"));

  char scratch[] = "/tmp/procxy-dir-XXXXXX";
  REQUIRE(::mkdtemp(scratch));
  std::string dir = std::string(scratch) + "/procxy";
  REQUIRE(::mkdir(dir.c_str(), 0700) == 0);
  REQUIRE(::chmod(dir.c_str(), 0755) == 0);
  const char* saved = std::getenv("XDG_RUNTIME_DIR");
  std::string previous = saved ? saved : "";
  ::setenv("XDG_RUNTIME_DIR", scratch, 1);
  CHECK_THROWS_WITH(procxy::attach<e2e::Service>(unique_name("dir"), shared_options()),
                    Contains("has mode 0755") && Contains("must be 0700"));
  if (saved) {
    ::setenv("XDG_RUNTIME_DIR", previous.c_str(), 1);
  } else {
    ::unsetenv("XDG_RUNTIME_DIR");
  }
  std::filesystem::remove_all(scratch);
}
