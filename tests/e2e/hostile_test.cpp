// Shared children under clients that stall, exhaust them or misbehave
// (issue 20): the other clients are served on, and each failure is told.

#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "service.procxy.h"
#include "shared_support.h"
#include "test_support.h"

namespace {

using namespace std::chrono_literals;
using namespace e2e;
using Catch::Matchers::Contains;

// Starts this program with `args` (and the environment, plus `extra`).
pid_t start_self(std::vector<std::string> args, const std::string& extra = "") {
  args.insert(args.begin(), E2E_SELF);
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (char** entry = environ; *entry; ++entry) envp.push_back(*entry);
  std::string added = extra;
  if (!added.empty()) envp.push_back(added.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  REQUIRE(::posix_spawn(&pid, E2E_SELF, nullptr, nullptr, argv.data(), envp.data()) == 0);
  return pid;
}

// Waits until the child `pid` has stopped itself.
bool stopped(pid_t pid) {
  return eventually(
      [&] {
        int status = 0;
        return ::waitpid(pid, &status, WUNTRACED | WNOHANG) == pid && WIFSTOPPED(status);
      },
      bound(30s));
}

void end(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status;
  ::waitpid(pid, &status, 0);
}

// A raw connection to the shared child `name` that says nothing.
int connect_silently(const std::string& name) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::string path = socket_of(name);
  path.copy(address.sun_path, sizeof address.sun_path - 1);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  return fd;
}

// Seconds of CPU the process `pid` has used.
double cpu_seconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  std::istringstream fields(line.substr(line.rfind(") ") + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

TEST_CASE("a client that stops reading is dropped, and the shared child serves the others", "[hostile]") {
  for (std::string how : {"events", "calls"}) {
    INFO(how);
    std::string name = unique_name("stall");
    procxy::Options options = shared_options();
    options.timeout = bound(10s);
    auto service = procxy::attach<e2e::Service>(name, options);
    pid_t staller = start_self({"--stall", name, how});
    REQUIRE(stopped(staller));
    if (how == "events") {
      // 12.8 MB of events for a client that reads none of them.
      std::vector<std::byte> data(32 * 1024);
      CHECK(service->emit_chunks(data, 400).size() == data.size());
    }
    CHECK(service->add(1, 2) == 3);
    CHECK(eventually(
        [&] { return log_of(name).find("dropping client process " + std::to_string(staller)) != std::string::npos; },
        bound(10s)));
    CHECK_THAT(log_of(name), Contains("has not read its replies and events"));
    CHECK(service->add(2, 2) == 4);
    end(staller);
    kill_shared(service.pid(), name);
  }
}

TEST_CASE("a shared child caps its clients, ends silent ones and does not spin out of descriptors", "[hostile]") {
  std::string name = unique_name("exhaust");
  // The starter's file limit is the child's: 64 descriptors, so 16 clients.
  int status = 0;
  std::string started =
      output_of("prlimit --nofile=64:64 " + std::string(E2E_SELF) + " --attach " + name + " 0 20000 2>&1", status);
  INFO(started);
  REQUIRE(status == 0);
  procxy::Options options = shared_options(20s);

  std::vector<int> silent;
  for (int i = 0; i < 40; ++i) silent.push_back(connect_silently(name));
  CHECK_THROWS_WITH(procxy::attach<e2e::Service>(name, options),
                    Contains("refused process") && Contains("it serves 16 clients"));
  // The silent ones hold no client's place past the handshake deadline.
  std::optional<procxy::Proxy<e2e::Service>> service;
  CHECK(eventually(
      [&] {
        try {
          service = procxy::attach<e2e::Service>(name, options);
          return true;
        } catch (const procxy::SpawnError&) {
          return false;
        }
      },
      bound(10s)));
  REQUIRE(service);
  for (int fd : silent) ::close(fd);
  CHECK_THAT(log_of(name), Contains("it serves 16 clients"));

  // The object takes what descriptors are left: the next client finds none.
  // (Twice: a descriptor of a silent client may close just after its place is free.)
  CHECK((*service)->hold_files(64) < 64);
  std::this_thread::sleep_for(100ms);
  (*service)->hold_files(64);
  double before = cpu_seconds(service->pid());
  CHECK_THROWS_WITH(procxy::attach<e2e::Service>(name, options), Contains("out of file descriptors"));
  std::vector<int> waiting;
  for (int i = 0; i < 8; ++i) waiting.push_back(connect_silently(name));
  std::this_thread::sleep_for(1s);
  for (int fd : waiting) ::close(fd);
  CHECK(cpu_seconds(service->pid()) - before < 0.5);  // resting, not spinning on accept()
  CHECK_THAT(log_of(name), Contains("cannot accept a client: Too many open files"));
  CHECK((*service)->add(1, 1) == 2);
  kill_shared(service->pid(), name);
}

TEST_CASE("a shared child out of threads refuses the next clients and serves on", "[hostile]") {
  if (::geteuid() != 0) {
    WARN("skipped: RLIMIT_NPROC counts a user's threads: the test runs as another user (uid 65534), which needs root");
    return;
  }
  namespace fs = std::filesystem;
  fs::path root = scratch_for_nobody("threads", "runtime");
  fs::path runtime = root / "runtime";
  std::string name = unique_name("threads");

  int status = 0;
  std::string output = output_of("env -u TSAN_OPTIONS XDG_RUNTIME_DIR=" + runtime.string() +
                                     " setpriv --reuid=65534 --regid=65534 --clear-groups prlimit --nproc=40:40 " +
                                     (root / "client").string() + " --exhaust-threads " + name + " 2>&1",
                                 status);
  std::ifstream in(runtime / "procxy" / (name + ".log"));
  std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  INFO(output << "\nthe child's log:\n" << log);
  CHECK(status == 0);
  int first = 0, second = 0, sum = 0;
  CHECK(std::sscanf(output.c_str(), "child %d then %d: %d", &first, &second, &sum) == 3);
  CHECK(first == second);  // the same child, alive
  CHECK(sum == 5);
  CHECK_THAT(log, Contains("cannot start a thread for it") && Contains("RLIMIT_NPROC"));
  if (first > 0) ::kill(first, SIGKILL);
  fs::remove_all(root);
}

TEST_CASE("a constructor that fails reaches every process waiting on that start, and runs once", "[hostile]") {
  std::string name = unique_name("failing");
  std::string runs = runtime_dir() + "/" + name + ".runs";
  std::string environment = "E2E_CONSTRUCT_FAIL=" + runs + " E2E_CONSTRUCT_MS=" + (kSanitized ? "5000" : "1000");
  std::string one = environment + " " + E2E_SELF + " --attach " + name + " 0 10000 2>&1";
  int status = 0;
  std::string output = output_of("for i in 1 2 3 4 5 6 7 8; do " + one + " & done; wait", status);
  INFO(output);
  std::ifstream in(runs);
  std::string lines((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(lines == "run\n");
  // Every process got the failure (none started again, none got through).
  int failures = 0;
  for (auto at = output.find("the constructor fails on purpose"); at != std::string::npos;
       at = output.find("the constructor fails on purpose", at + 1)) {
    ++failures;
  }
  CHECK(failures == 8);
  CHECK_THAT(output, Contains("the start this process waited for"));
  // A later attach starts afresh.
  output = output_of(one, status);
  CHECK_THAT(output, Contains("the constructor fails on purpose"));
  in = std::ifstream(runs);
  lines.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  CHECK(lines == "run\nrun\n");
  std::filesystem::remove(runs);
  forget(name);
}

TEST_CASE("a runtime directory another user created is refused with what to do", "[hostile]") {
  if (::geteuid() != 0) {
    WARN("skipped: making a directory of another user needs root");
    return;
  }
  std::string run_user = "/run/user/" + std::to_string(::geteuid());
  if (std::filesystem::is_directory(run_user)) {
    WARN("skipped: " + run_user + " exists, and attach() uses it before TMPDIR");
    return;
  }
  char scratch[] = "/tmp/procxy-squat-XXXXXX";
  REQUIRE(::mkdtemp(scratch));
  std::string squatted = std::string(scratch) + "/procxy-" + std::to_string(::geteuid());
  REQUIRE(::mkdir(squatted.c_str(), 0700) == 0);
  REQUIRE(::chown(squatted.c_str(), 65534, 65534) == 0);
  int status = 0;
  std::string output = output_of("env -u XDG_RUNTIME_DIR TMPDIR=" + std::string(scratch) + " " + E2E_SELF +
                                     " --attach " + unique_name("squat") + " 0 1000 2>&1",
                                 status);
  INFO(output);
  CHECK(status != 0);
  CHECK_THAT(output, Contains("belongs to uid 65534") &&
                         Contains("Set XDG_RUNTIME_DIR to a directory only you can "
                                  "write") &&
                         Contains("or root remove '" + squatted + "'"));
  std::filesystem::remove_all(scratch);
}
