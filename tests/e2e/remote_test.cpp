// Children started through a launcher (Options::launcher, SPEC §12): local
// wrappers that hand the child a socket or pipes, and a real sshd on
// 127.0.0.1 (sshd_fixture.h) and a real one-node Slurm cluster
// (slurm_fixture.h). What holds for a private child holds here;
// the differences are tested where they are: start data in the start
// message, remote_pid(), output through the launcher's stderr, heartbeats,
// and the launcher's own failures.

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "service.procxy.h"
#include "slurm_fixture.h"
#include "sshd_fixture.h"
#include "test_support.h"

using e2e::Service;
using namespace std::chrono_literals;

namespace {

// Runs the command after it directly: the child's stdin and stdout are the
// parent's socket.
const std::vector<std::string> kEnvLauncher = {"env", "--"};
// Puts a pipe on each side of the child, as sshd does: `cat | child | cat`.
const std::vector<std::string> kPipeLauncher = {"sh", "-c", "cat | \"$0\" \"$@\" | cat"};

procxy::Options through(const std::vector<std::string>& launcher) {
  procxy::Options options;
  options.launcher = launcher;
  options.dedupe = false;
  return options;
}

// What every launcher must carry: sync and async calls, events before the
// result, exceptions with the child's stack, the start data, remote_pid().
void exercise(const std::vector<std::string>& launcher) {
  ::setenv("E2E_REMOTE_INHERITED", "yes", 1);
  procxy::Options options = through(launcher);
  options.env = {{"E2E_REMOTE_SET", "42"}};
  options.cwd = "/tmp";
  options.args = {"two words", "it's", "$HOME"};
  auto service = procxy::spawn<Service>(options, 10);

  CHECK(service->add(2, 3) == 15);  // 10 + 2 + 3: constructed with its argument
  CHECK(service.async()->add(4, 5).get() == 19);

  std::vector<int> seen;
  auto subscription = service.on(&Service::progress, [&](int p) { seen.push_back(p); });
  service->emit_progress(5);
  CHECK(seen == std::vector<int>{0, 1, 2, 3, 4});  // every event before the result

  try {
    service->throw_std("out_of_range", "index 7");
    FAIL("no exception");
  } catch (const std::out_of_range& e) {
    CHECK(std::string(e.what()).find("index 7") != std::string::npos);
    const auto& remote = dynamic_cast<const procxy::RemoteError&>(e);
    CHECK(remote.type_name() == "std::out_of_range");
    CHECK_FALSE(remote.remote_stack().empty());
  }

  CHECK(service.remote_pid() == service->pid());
  CHECK(service->env("E2E_REMOTE_SET") == "42");
  CHECK(service->cwd() == "/tmp");
  std::vector<std::string> argv = service->argv();
  REQUIRE(argv.size() == 5);
  CHECK(argv[1] == "--procxy-child=stdio");
  CHECK(argv[2] == "two words");  // quoted for ssh's remote shell, whole elsewhere
  CHECK(argv[3] == "it's");
  CHECK(argv[4] == "$HOME");
  CHECK_FALSE(service->has_env("PROCXY_CHILD_FD"));

  procxy::Options clean = through(launcher);
  clean.inherit_env = false;
  clean.env = {{"ONLY", "this"}};
  auto isolated = procxy::spawn<Service>(clean);
  CHECK_FALSE(isolated->has_env("E2E_REMOTE_INHERITED"));
  CHECK_FALSE(isolated->has_env("PATH"));
  CHECK(isolated->env("ONLY") == "this");
}

// 64 calls in flight, then one call with a payload of `bytes` whose bytes
// follow no short period (a lost or repeated chunk would show).
void check_load(procxy::Proxy<Service>& service, std::size_t bytes) {
  std::vector<std::future<std::string>> replies;
  for (int i = 0; i < 64; ++i) replies.push_back(service.async()->echo("call " + std::to_string(i)));
  for (int i = 0; i < 64; ++i) CHECK(replies[i].get() == "call " + std::to_string(i));
  std::string large(bytes, '\0');
  for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>(i * 7 + i / 4096);
  CHECK(service->echo(large) == large);
}

// Lines of a child's output, as Options::output::to() received them.
struct Lines {
  std::mutex mutex;
  std::vector<std::pair<int, std::string>> got;
  procxy::Output output() {
    return procxy::Output::to([this](int fd, std::string_view line) {
      std::lock_guard<std::mutex> lock(mutex);
      got.emplace_back(fd, std::string(line));
    });
  }
  bool has(int fd, const std::string& line) {
    std::lock_guard<std::mutex> lock(mutex);
    return std::find(got.begin(), got.end(), std::pair(fd, line)) != got.end();
  }
  std::string all() {
    std::lock_guard<std::mutex> lock(mutex);
    std::string text;
    for (const auto& [fd, line] : got) text += std::to_string(fd) + ": " + line + "\n";
    return text;
  }
};

// The processes named `name` among the descendants of `pid`.
std::vector<pid_t> descendants_named(pid_t pid, const std::string& name) {
  std::vector<pid_t> found;
  for (pid_t child : e2e::children_of(pid)) {
    if (e2e::command_of(child) == name) found.push_back(child);
    for (pid_t deeper : descendants_named(child, name)) found.push_back(deeper);
  }
  return found;
}

// Starts this program as a parent that spawns a Service through `launcher`,
// reads the remote pid it prints, SIGKILLs that parent, and checks that the
// child exits within 2 s (the launcher closes its side of the channel; the
// child sees it).
void check_child_dies_with_parent(const std::vector<std::string>& launcher) {
  int out[2];
  REQUIRE(::pipe(out) == 0);
  pid_t parent = ::fork();
  if (parent == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    std::vector<std::string> args = {"e2e_tests", "--spawn-remote-and-hang"};
    args.insert(args.end(), launcher.begin(), launcher.end());
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    ::execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  ::close(out[1]);
  FILE* lines = ::fdopen(out[0], "r");
  char line[32] = "";
  bool got = std::fgets(line, sizeof line, lines) != nullptr;
  ::fclose(lines);
  REQUIRE(got);
  pid_t child = std::atoi(line);
  REQUIRE(child > 0);
  REQUIRE(e2e::process_running(child));

  ::kill(parent, SIGKILL);
  ::waitpid(parent, nullptr, 0);
  bool gone = e2e::eventually([&] { return !e2e::process_running(child); }, e2e::bound(2s));
  CHECK(gone);
  if (!gone) ::kill(child, SIGKILL);
}

}  // namespace

TEST_CASE("a launcher that hands the child a socket carries everything a private child does", "[remote]") {
  exercise(kEnvLauncher);
}

TEST_CASE("a launcher that puts pipes around the child carries everything a private child does", "[remote]") {
  exercise(kPipeLauncher);
  auto service = procxy::spawn<Service>(through(kPipeLauncher));
  CHECK(service.remote_pid() != service.pid());  // pid() is the launcher's
}

TEST_CASE("through a launcher, what the child prints comes back on its stderr", "[remote]") {
  Lines lines;
  procxy::Options options = through(kPipeLauncher);
  options.output = lines.output();
  auto service = procxy::spawn<Service>(options);
  service->print({"to stdout"}, {"to stderr"});
  CHECK(service->add(1, 1) == 2);  // the channel is intact
  service.terminate();
  INFO(lines.all());
  CHECK(lines.has(2, "to stdout"));  // moved to stderr: stdout is the channel
  CHECK(lines.has(2, "to stderr"));
}

TEST_CASE("64 calls in flight and a 16 MiB payload cross a launcher's pipes", "[remote]") {
  auto service = procxy::spawn<Service>(through(kPipeLauncher));
  check_load(service, 16 << 20);
}

TEST_CASE("a launcher's failures are SpawnErrors that carry what it said", "[remote]") {
  procxy::Options missing = through({"/nonexistent/launcher", "--"});
  std::string what = e2e::message_of([&] { procxy::spawn<Service>(missing); });
  CHECK(what.find("/nonexistent/launcher") != std::string::npos);
  CHECK(what.find("Options::launcher") != std::string::npos);

  procxy::Options refused = through({"sh", "-c", "echo 'srun: error: Unable to allocate resources' >&2; exit 1"});
  CHECK_THROWS_AS(procxy::spawn<Service>(refused), procxy::SpawnError);
  what = e2e::message_of([&] { procxy::spawn<Service>(refused); });
  CHECK(what.find("Unable to allocate resources") != std::string::npos);
  CHECK(what.find("exited with code 1") != std::string::npos);

  procxy::Options no_executable = through({"sh", "-c", "exec \"$0\" \"$@\""});
  no_executable.executable = "/nonexistent/agent";
  what = e2e::message_of([&] { procxy::spawn<Service>(no_executable); });
  CHECK(what.find("/nonexistent/agent") != std::string::npos);  // sh: exec: /nonexistent/agent: not found
  CHECK(what.find("exists on the other machine") != std::string::npos);
}

TEST_CASE("options that cannot work over a launcher are refused before anything starts", "[remote]") {
  procxy::Options options = through(kEnvLauncher);
  options.heartbeat = -1ms;
  CHECK_THROWS_WITH(procxy::spawn<Service>(options), Catch::Contains("Options::heartbeat"));
  options = through({""});
  CHECK_THROWS_WITH(procxy::spawn<Service>(options), Catch::Contains("Options::launcher[0] is empty"));
  options = through(kEnvLauncher);
  options.limits.max_rss = 1 << 30;
  CHECK_THROWS_WITH(procxy::spawn<Service>(options), Catch::Contains("Options::limits.max_rss"));
  CHECK_THROWS_WITH(procxy::attach<Service>("e2e-remote", through(kEnvLauncher)),
                    Catch::Contains("a shared child is found through a socket on this machine"));
}

TEST_CASE("a link silent for three heartbeats fails pending calls, and the child leaves", "[remote]") {
  procxy::Options options = through(kPipeLauncher);
  options.heartbeat = 200ms;
  auto service = procxy::spawn<Service>(options);
  pid_t child = service.remote_pid();
  service->sleep_ms(static_cast<int>(e2e::bound(1000ms).count()));  // heartbeats keep a quiet link alive
  CHECK(service->add(1, 2) == 3);

  // Both cats stopped: nothing crosses either way, and nothing closes.
  std::vector<pid_t> cats = descendants_named(service.pid(), "cat");
  REQUIRE(cats.size() == 2);
  for (pid_t cat : cats) ::kill(cat, SIGSTOP);
  auto started = std::chrono::steady_clock::now();
  std::string what = e2e::message_of([&] { service->sleep_ms(60'000); });
  auto waited = std::chrono::steady_clock::now() - started;
  INFO(what);
  CHECK(what.find("the link to the child was lost") != std::string::npos);
  CHECK(what.find("3 heartbeats of Options::heartbeat = 200 ms") != std::string::npos);
  CHECK(what.find("on child " + std::to_string(child) + " through 'sh' (pid ") != std::string::npos);
  CHECK(waited < e2e::bound(5s));
  CHECK_THROWS_AS(service->add(1, 2), procxy::ChildExitedError);
  // The child, hearing nothing either, exits by itself.
  CHECK(e2e::eventually([&] { return !e2e::process_running(child); }, e2e::bound(5s)));
  for (pid_t cat : cats) ::kill(cat, SIGKILL);
}

TEST_CASE("a child started through a launcher exits within 2 s of its parent's SIGKILL", "[remote]") {
  check_child_dies_with_parent(kPipeLauncher);
}

TEST_CASE("restart and pools work through a launcher", "[remote]") {
  // env execs the child: its death closes the channel, and env's exit is the death the parent sees.
  procxy::Options options = through(kEnvLauncher);
  options.restart = true;
  auto service = procxy::spawn<Service>(options);
  pid_t first = service.remote_pid();
  service.async()->crash("kill");
  CHECK(e2e::eventually([&] { return !service.alive(); }, e2e::bound(5s)));
  CHECK(service->add(2, 2) == 4);  // on a new child
  CHECK(service.remote_pid() != first);

  // sh waits for its pipeline and holds the channel open after the child
  // died: only the silence of the link shows the death.
  options = through(kPipeLauncher);
  options.restart = true;
  options.heartbeat = 200ms;
  auto piped = procxy::spawn<Service>(options);
  first = piped.remote_pid();
  piped.async()->crash("kill");
  CHECK(e2e::eventually([&] { return !piped.alive(); }, e2e::bound(5s)));
  CHECK(piped->add(2, 2) == 4);
  CHECK(piped.remote_pid() != first);

  // A pool over two "machines": child i through launchers[i % 2], its
  // replacement through the same one.
  procxy::PoolOptions pool;
  pool.launchers = {kEnvLauncher, kPipeLauncher};
  pool.size = 2;
  auto workers = procxy::pool<Service>(pool);
  std::vector<std::future<int>> sums;
  for (int i = 0; i < 8; ++i) sums.push_back(workers.async()->add(i, i));
  for (int i = 0; i < 8; ++i) CHECK(sums[i].get() == 2 * i);
  std::vector<procxy::Proxy<Service>> children = workers.children();
  REQUIRE(children.size() == 2);
  CHECK(children[0].remote_pid() == children[0].pid());  // env execs the child
  CHECK(children[1].remote_pid() != children[1].pid());  // sh stays between
  pid_t replaced = children[0].pid();
  ::kill(replaced, SIGKILL);
  CHECK(e2e::eventually(
      [&] {
        auto now = workers.children();
        return now.size() == 2 && now[0].pid() != replaced && now[0].alive();
      },
      e2e::bound(5s)));
  CHECK(workers.children()[0].remote_pid() == workers.children()[0].pid());  // through env again
}

TEST_CASE("a call through a launcher times out like any other", "[remote]") {
  auto service = procxy::spawn<Service>(through(kPipeLauncher));
  CHECK_THROWS_AS(service.with({.timeout = 100ms})->sleep_ms(1000), procxy::TimeoutError);
  CHECK(service->add(1, 1) == 2);  // the child kept running
}

// Through a real sshd.

TEST_CASE("through ssh: calls, events, exceptions, start data and remote_pid", "[remote][ssh]") {
  exercise(e2e::Sshd::instance().launcher());
}

TEST_CASE("through ssh: 64 calls in flight and a 16 MiB payload", "[remote][ssh]") {
  auto service = procxy::spawn<Service>(through(e2e::Sshd::instance().launcher()));
  CHECK(service.remote_pid() != service.pid());
  check_load(service, 16 << 20);
}

TEST_CASE("through ssh: sshd killed mid-call fails the call at once, and the child leaves", "[remote][ssh]") {
  e2e::Sshd& sshd = e2e::Sshd::instance();
  procxy::Options options = through(sshd.launcher());
  options.heartbeat = 500ms;
  auto service = procxy::spawn<Service>(options);
  pid_t child = service.remote_pid();
  auto call = service.async()->sleep_ms(60'000);
  REQUIRE(call.wait_for(200ms) == std::future_status::timeout);
  sshd.kill_sessions();
  REQUIRE(call.wait_for(e2e::bound(5s)) == std::future_status::ready);  // within the heartbeat bound at most
  std::string what = e2e::message_of([&] { call.get(); });
  CHECK(what.find("the launcher 'ssh'") != std::string::npos);
  CHECK_THROWS_AS(service->add(1, 2), procxy::ChildExitedError);
  CHECK(e2e::eventually([&] { return !e2e::process_running(child); }, e2e::bound(5s)));
}

TEST_CASE("through ssh: the child exits within 2 s of its parent's SIGKILL", "[remote][ssh]") {
  check_child_dies_with_parent(e2e::Sshd::instance().launcher());
}

TEST_CASE("through ssh: a refused connection and a refused key are SpawnErrors with ssh's words", "[remote][ssh]") {
  e2e::Sshd& sshd = e2e::Sshd::instance();
  std::vector<std::string> closed_port = sshd.launcher();
  closed_port[3] = "1";  // -p 1: nobody listens
  std::string what = e2e::message_of([&] { procxy::spawn<Service>(through(closed_port)); });
  CHECK(what.find("Connection refused") != std::string::npos);
  CHECK(what.find("exited with code 255") != std::string::npos);

  std::string stranger = (sshd.directory() / "stranger_key").string();
  if (!std::filesystem::exists(stranger)) {
    REQUIRE(std::system(("ssh-keygen -q -t ed25519 -N '' -f " + stranger).c_str()) == 0);
  }
  what = e2e::message_of([&] { procxy::spawn<Service>(through(sshd.launcher_with(stranger))); });
  CHECK(what.find("Permission denied") != std::string::npos);
}

#ifdef E2E_REMOTE_EXAMPLE
TEST_CASE("through ssh: the remote example counts its words on the other side", "[remote][ssh]") {
  std::string command = std::string("'") + E2E_REMOTE_EXAMPLE + "'";
  for (const std::string& word : e2e::Sshd::instance().launcher()) command += " '" + word + "'";
  int status = 0;
  std::string output = e2e::output_of(command, status);
  INFO(output);
  CHECK(status == 0);
  CHECK(output.find("400000 words counted over there") != std::string::npos);
  CHECK(output.find("100%") != std::string::npos);
}
#endif

// Through a real one-node Slurm cluster: srun asks slurmctld for an
// allocation, and slurmd's slurmstepd runs the child.

TEST_CASE("through srun: calls, events, exceptions, start data and remote_pid", "[remote][slurm]") {
  e2e::Slurm::instance();
  exercise(e2e::Slurm::launcher());
  auto service = procxy::spawn<Service>(through(e2e::Slurm::launcher()));
  CHECK(service.remote_pid() != service.pid());  // pid() is srun's
  CHECK(service->has_env("SLURM_JOB_ID"));       // a Slurm task
}

TEST_CASE("through srun: 64 calls in flight, a 1 MiB payload and a pool", "[remote][slurm]") {
  e2e::Slurm::instance();
  auto service = procxy::spawn<Service>(through(e2e::Slurm::launcher()));
  check_load(service, 1 << 20);

  procxy::PoolOptions pool;
  pool.launchers = {e2e::Slurm::launcher()};
  pool.size = 2;
  auto workers = procxy::pool<Service>(pool);
  std::vector<std::future<int>> sums;
  for (int i = 0; i < 8; ++i) sums.push_back(workers.async()->add(i, i));
  for (int i = 0; i < 8; ++i) CHECK(sums[i].get() == 2 * i);
}

TEST_CASE("through srun: srun killed mid-call fails the call at once, and the job's child leaves", "[remote][slurm]") {
  e2e::Slurm::instance();
  auto service = procxy::spawn<Service>(through(e2e::Slurm::launcher()));
  pid_t child = service.remote_pid();
  auto call = service.async()->sleep_ms(60'000);
  REQUIRE(call.wait_for(200ms) == std::future_status::timeout);
  ::kill(service.pid(), SIGKILL);  // srun's main process: Slurm cancels the step
  REQUIRE(call.wait_for(e2e::bound(5s)) == std::future_status::ready);
  std::string what = e2e::message_of([&] { call.get(); });
  INFO(what);
  CHECK(what.find("the launcher 'srun'") != std::string::npos);
  CHECK(what.find("killed by signal 9") != std::string::npos);
  CHECK_THROWS_AS(service->add(1, 2), procxy::ChildExitedError);
  CHECK(e2e::eventually([&] { return !e2e::process_running(child); }, e2e::bound(5s)));
}

TEST_CASE("through srun: the child exits within 2 s of its parent's SIGKILL", "[remote][slurm]") {
  e2e::Slurm::instance();
  check_child_dies_with_parent(e2e::Slurm::launcher());
}

TEST_CASE("through srun: no allocation and a missing executable are SpawnErrors with srun's words", "[remote][slurm]") {
  e2e::Slurm::instance();
  std::string what = e2e::message_of([&] {
    procxy::spawn<Service>(through({"srun", "-N1", "-n1", "--unbuffered", "-p", "no-such-partition", "--"}));
  });
  INFO(what);
  CHECK(what.find("Unable to allocate resources") != std::string::npos);
  CHECK(what.find("Invalid partition name specified") != std::string::npos);

  procxy::Options missing = through(e2e::Slurm::launcher());
  missing.executable = "/nonexistent/agent";
  what = e2e::message_of([&] { procxy::spawn<Service>(missing); });
  INFO(what);
  CHECK(what.find("exited with code 2") != std::string::npos);
  CHECK(what.find("/nonexistent/agent: No such file or directory") != std::string::npos);  // slurmstepd's words
}
