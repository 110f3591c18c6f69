// Options::sandbox: an object that, once it serves, can open only what the
// sandbox gives it, create no socket, execute nothing and cannot trace
// anything, while everything the runtime does for it still works.

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "prober.procxy.h"
#include "shared_support.h"
#include "test_support.h"

using e2e::Prober;
using namespace std::chrono_literals;

namespace {

procxy::Options sandboxed() {
  procxy::Options options;
  options.sandbox.enabled = true;
  options.dedupe = false;
  return options;
}

// A file outside every rule, which the constructor opens before the sandbox.
struct Files {
  e2e::TempDir dir;
  std::string readable = dir.file("readable");
  std::string kept = dir.file("kept");
  Files() {
    std::filesystem::create_directory(dir.file("ro"));
    std::filesystem::create_directory(dir.file("rw"));
    std::ofstream(dir.file("ro/file")) << "read only\n";
    std::ofstream(kept) << "kept line\n";
    std::ofstream(readable) << "readable line\n";
  }
};

}  // namespace

TEST_CASE("a sandboxed object reads what read_only gives, and what its constructor opened, and nothing else",
          "[sandbox]") {
  Files files;
  procxy::Options options = sandboxed();
  options.sandbox.read_only = {files.dir.file("ro"), files.readable};
  auto prober = procxy::spawn<Prober>(options, files.kept);
  CHECK(prober->open_read(files.dir.file("ro/file")) == 0);  // a tree
  CHECK(prober->open_read(files.readable) == 0);             // a single file
  CHECK(prober->first_line(files.readable) == "readable line");
  CHECK(prober->open_read("/etc/passwd") == EACCES);
  CHECK(prober->open_read(files.kept) == EACCES);  // opened again: not in read_only
  CHECK(prober->read_kept() == "kept line");       // what the constructor opened stays usable
  CHECK_THROWS_WITH(prober->first_line("/etc/passwd"), Catch::Contains("Permission denied"));
  // The object's own thread, started by its constructor, is confined too.
  CHECK(prober->thread_open("/etc/passwd") == EACCES);
  CHECK(prober->thread_open(files.dir.file("ro/file")) == 0);
}

TEST_CASE("a sandboxed object writes under read_write only", "[sandbox]") {
  Files files;
  procxy::Options options = sandboxed();
  options.sandbox.read_only = {files.dir.file("ro")};
  options.sandbox.read_write = {files.dir.file("rw")};
  auto prober = procxy::spawn<Prober>(options, "");
  CHECK(prober->open_write(files.dir.file("rw/new")) == 0);
  CHECK(prober->first_line(files.dir.file("rw/new")) == "written");
  CHECK(prober->open_write(files.dir.file("ro/new")) == EACCES);
  CHECK(prober->open_write(files.dir.file("outside")) == EACCES);
  CHECK(prober->open_write("/tmp/procxy-sandbox-escape") == EACCES);
  CHECK_FALSE(std::filesystem::exists(files.dir.file("ro/new")));
  CHECK_FALSE(std::filesystem::exists(files.dir.file("outside")));
}

TEST_CASE("a sandboxed object creates no socket unless network, and executes nothing unless exec", "[sandbox]") {
  {
    auto prober = procxy::spawn<Prober>(sandboxed(), "");
    CHECK(prober->tcp_socket() == EPERM);
    CHECK(prober->exec_true() == EPERM);  // fork (without exec, threads only) fails in the object's code
  }
  procxy::Options options = sandboxed();
  options.sandbox.network = true;
  options.sandbox.exec = true;
  options.sandbox.read_only = {"/usr"};  // what /bin/true and its libraries are read from
  auto prober = procxy::spawn<Prober>(options, "");
  CHECK(prober->tcp_socket() == 0);
  CHECK(prober->exec_true() == 0);
  CHECK(prober->open_read("/etc/passwd") == EACCES);  // still confined to the paths
}

TEST_CASE("a sandboxed object that calls ptrace is killed, and the parent's error names the syscall", "[sandbox]") {
  procxy::Options options = sandboxed();
  auto prober = procxy::spawn<Prober>(options, "");
  pid_t pid = prober.pid();
  std::string what;
  try {
    prober->trace_me();
    FAIL("ptrace returned in a sandboxed child");
  } catch (const procxy::ChildExitedError& e) {
    what = e.what();
  }
  INFO(what);
  CHECK(what.find("the child's sandbox (Options::sandbox) killed it") != std::string::npos);
  CHECK(what.find("ptrace") != std::string::npos);
  CHECK(what.find("Options::sandbox.allow_syscalls") != std::string::npos);
  CHECK(e2e::eventually([&] { return !e2e::process_exists(pid); }, e2e::bound(10s)));
  // Every later call says the same.
  CHECK_THROWS_WITH(prober->pid_after(0), Catch::Contains("it called ptrace"));
}

TEST_CASE("allow_syscalls lets a sandboxed object make a syscall the sandbox traps", "[sandbox]") {
  {
    auto prober = procxy::spawn<Prober>(sandboxed(), "");
    CHECK(prober->probe_io_uring() == ENOSYS);  // probed for by libraries: absent, not fatal
    CHECK_THROWS_WITH(prober->compare_self(), Catch::Contains("it called kcmp"));
  }
  procxy::Options options = sandboxed();
  options.sandbox.allow_syscalls = {"kcmp", "io_uring_setup"};
  auto prober = procxy::spawn<Prober>(options, "");
  CHECK(prober->compare_self() == 0);
  CHECK(prober->probe_io_uring() == EFAULT);
  CHECK(prober->open_read("/etc/passwd") == EACCES);
}

TEST_CASE("the runtime works in a sandboxed child: concurrency, events, large payloads, exceptions, restart",
          "[sandbox]") {
  procxy::Options options = sandboxed();
  options.concurrency = 4;
  options.restart = true;
  auto prober = procxy::spawn<Prober>(options, "");
  // Four calls at once, on the threads a sandboxed child starts.
  std::vector<std::future<std::int32_t>> calls;
  for (int i = 0; i < 8; ++i) calls.push_back(prober.async()->pid_after(50));
  for (auto& call : calls) CHECK(call.get() == prober.pid());
  // Events before the result.
  std::vector<int> seen;
  std::mutex seen_mutex;
  auto subscription = prober.on(&Prober::said, [&](int n) {
    std::lock_guard lock(seen_mutex);
    seen.push_back(n);
  });
  CHECK(prober->say(100) == 100);
  {
    std::lock_guard lock(seen_mutex);
    CHECK(seen.size() == 100);
  }
  // Payloads large enough to travel through shared memory, both ways.
  std::string big(4 << 20, 'x');
  big[12345] = 'y';
  CHECK(prober->echo(big) == big);
  CHECK(prober->echo(big) == big);
  // Exceptions, with the child's stack (read from its program's file).
  try {
    prober->fail("from the sandbox");
    FAIL("fail() returned");
  } catch (const std::runtime_error& e) {
    const auto* remote = dynamic_cast<const procxy::RemoteError*>(&e);
    REQUIRE(remote);
    CHECK(remote->message() == "from the sandbox");
    CHECK(remote->remote_stack().find("Prober::fail") != std::string::npos);
  }
  // A restarted child is sandboxed as well.
  pid_t first = prober.pid();
  ::kill(first, SIGKILL);
  CHECK(e2e::eventually([&] { return !e2e::process_exists(first); }, e2e::bound(10s)));
  std::int32_t second = 0;
  CHECK(e2e::eventually(
      [&] {
        try {
          second = prober->pid_after(0);
        } catch (const procxy::ChildExitedError&) {  // the death, if the call came first
        }
        return second != 0;
      },
      e2e::bound(10s)));
  CHECK(second != first);
  CHECK(prober->open_read("/etc/passwd") == EACCES);
  CHECK(prober->echo(big) == big);
}

TEST_CASE("a pool of sandboxed children: each is confined", "[sandbox]") {
  procxy::PoolOptions options;
  options.child = sandboxed();
  options.size = 2;
  auto pool = procxy::pool<Prober>(options, "");
  for (int i = 0; i < 4; ++i) CHECK(pool->open_read("/etc/passwd") == EACCES);
  CHECK(pool->tcp_socket() == EPERM);
}

TEST_CASE("a shared child runs sandboxed, and clients that ask for other rules are refused", "[sandbox]") {
  std::string name = e2e::unique_name("sandbox");
  procxy::Options options = sandboxed();
  options.idle_exit = 1s;
  Files files;
  options.sandbox.read_only = {files.dir.file("ro")};
  std::optional<procxy::Proxy<Prober>> shared = procxy::attach<Prober>(name, options, "");
  pid_t pid = shared->pid();
  CHECK((*shared)->open_read("/etc/passwd") == EACCES);
  CHECK((*shared)->open_read(files.dir.file("ro/file")) == 0);
  std::optional<procxy::Proxy<Prober>> again = procxy::attach<Prober>(name, options, "");
  CHECK(again->pid() == pid);

  procxy::Options unconfined;
  // Under PROCXY_SANDBOX=1 (the suite's sandboxed run) it gets that one.
  CHECK_THROWS_WITH(procxy::attach<Prober>(name, unconfined, ""),
                    Catch::Contains(std::getenv("PROCXY_SANDBOX")
                                        ? "with an Options::sandbox other than the one"
                                        : "without Options::sandbox, but this shared child runs sandboxed"));
  procxy::Options other = options;
  other.sandbox.network = true;
  CHECK_THROWS_WITH(procxy::attach<Prober>(name, other, ""),
                    Catch::Contains("with an Options::sandbox other than the one this shared child runs under"));
  // A shared child's idle exit takes its lock again (its socket file stays:
  // the sandbox lets it remove no file there), and the next start replaces it.
  shared.reset();
  again.reset();
  CHECK(e2e::eventually([&] { return !e2e::process_running(pid); }, e2e::bound(30s)));
  auto next = procxy::attach<Prober>(name, options, "");
  CHECK(next.pid() != pid);
  CHECK(next->open_read("/etc/passwd") == EACCES);
  e2e::kill_shared(next.pid(), name);
}

TEST_CASE("sandbox rules that cannot work are refused before anything starts", "[sandbox]") {
  procxy::Options options = sandboxed();
  options.sandbox.read_only = {"relative/path"};
  CHECK_THROWS_WITH(procxy::spawn<Prober>(options, ""),
                    Catch::Contains("Options::sandbox.read_only[0] is the relative path"));
  options = sandboxed();
  options.sandbox.allow_syscalls = {"no_such_syscall"};
  CHECK_THROWS_WITH(procxy::spawn<Prober>(options, ""),
                    Catch::Contains("Options::sandbox.allow_syscalls[0] is \"no_such_syscall\""));
  procxy::Options disabled;
  disabled.sandbox.read_only = {"/usr"};
  CHECK_THROWS_WITH(procxy::spawn<Prober>(disabled, ""), Catch::Contains("not enabled = true"));
  // A path the child's machine lacks: the child says so.
  options = sandboxed();
  options.sandbox.read_write = {"/nonexistent/cache"};
  std::string what = e2e::message_of([&] { procxy::spawn<Prober>(options, ""); });
  CHECK(what.find("Options::sandbox.read_write[0] is '/nonexistent/cache'") != std::string::npos);
  CHECK(what.find("No such file or directory") != std::string::npos);
}

TEST_CASE("a kernel without Landlock or seccomp: spawn throws naming it, unless best_effort", "[sandbox]") {
  for (const char* feature : {"landlock", "seccomp"}) {
    INFO(feature);
    procxy::Options options = sandboxed();
    options.launcher = {E2E_WITHOUT, feature, "--"};
    std::string what;
    try {
      procxy::spawn<Prober>(options, "");
      FAIL("spawn succeeded without " << feature);
    } catch (const procxy::SpawnError& e) {
      what = e.what();
    }
    CHECK(what.find(std::string("this kernel ") +
                    (feature == std::string("landlock") ? "has no Landlock" : "cannot filter syscalls")) !=
          std::string::npos);
    CHECK(what.find("Options::sandbox.best_effort") != std::string::npos);
    options.sandbox.best_effort = true;
    auto prober = procxy::spawn<Prober>(options, "");
    CHECK(prober->pid_after(0) > 0);
    if (feature == std::string("landlock")) {
      CHECK(prober->open_read("/etc/passwd") == 0);  // no paths confined
      CHECK(prober->tcp_socket() == EPERM);          // but the filter holds
    } else {
      CHECK(prober->open_read("/etc/passwd") == EACCES);  // Landlock holds
      CHECK(prober->tcp_socket() == 0);                   // no filter
    }
  }
}

TEST_CASE("PROCXY_SANDBOX=1 sandboxes every child started without Options::sandbox", "[sandbox]") {
  const char* before = std::getenv("PROCXY_SANDBOX");
  std::string previous = before ? before : "";
  ::setenv("PROCXY_SANDBOX", "1", 1);
  procxy::Options options;
  options.dedupe = false;
  auto prober = procxy::spawn<Prober>(options, "");
  if (before) {
    ::setenv("PROCXY_SANDBOX", previous.c_str(), 1);
  } else {
    ::unsetenv("PROCXY_SANDBOX");
  }
  CHECK(prober->open_read("/etc/passwd") == 0);  // reads everything
  CHECK(prober->tcp_socket() == EPERM);
  CHECK(prober->exec_true() == EPERM);
  e2e::TempDir dir;  // the temporary directory is writable
  CHECK(prober->open_write(dir.file("written")) == 0);
  CHECK_THROWS_WITH(prober->trace_me(), Catch::Contains("it called ptrace"));
}

TEST_CASE("PROCXY_DEBUG=sandbox lists what engaged", "[sandbox]") {
  std::mutex mutex;
  std::string said;
  procxy::Options options = sandboxed();
  options.output = procxy::Output::to([&](int, std::string_view line) {
    std::lock_guard lock(mutex);
    said += std::string(line) + "\n";
  });
  ::setenv("PROCXY_DEBUG", "sandbox", 1);
  auto prober = procxy::spawn<Prober>(options, "");
  ::unsetenv("PROCXY_DEBUG");
  CHECK(prober->pid_after(0) > 0);
  CHECK(e2e::eventually(
      [&] {
        std::lock_guard lock(mutex);
        return said.find("sandbox engaged") != std::string::npos;
      },
      e2e::bound(10s)));
  std::lock_guard lock(mutex);
  CHECK(said.find("no_new_privs, Landlock ABI") != std::string::npos);
  CHECK(said.find("seccomp filter (no new sockets, no execve)") != std::string::npos);
}
