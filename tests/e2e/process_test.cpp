// The child's process: options, descriptors, agents, lifetime and parent death.

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <sstream>
#include <string>

#include "service.procxy.h"
#include "test_support.h"

using e2e::Service;

TEST_CASE("Options args, env, inherit_env and cwd reach the child", "[process]") {
  ::setenv("E2E_INHERITED", "yes", 1);
  procxy::Options options;
  options.args = {"--flag", "value with space"};
  options.env = {{"E2E_SET", "42"}};
  options.cwd = "/tmp";
  auto service = procxy::spawn<Service>(options);
  std::vector<std::string> argv = service->argv();
  REQUIRE(argv.size() == 3);
  CHECK(argv[1] == "--flag");
  CHECK(argv[2] == "value with space");
  CHECK(service->env("E2E_SET") == "42");
  CHECK(service->env("E2E_INHERITED") == "yes");
  CHECK_FALSE(service->has_env("PROCXY_CHILD_FD"));  // serve_if_child removes its own variables
  CHECK_FALSE(service->has_env("PROCXY_PARENT_PID"));
  CHECK(service->cwd() == "/tmp");

  procxy::Options clean;
  clean.inherit_env = false;
  clean.env = {{"ONLY", "this"}};
  auto isolated = procxy::spawn<Service>(clean);
  CHECK_FALSE(isolated->has_env("E2E_INHERITED"));
  CHECK_FALSE(isolated->has_env("PATH"));
  CHECK(isolated->env("ONLY") == "this");
}

TEST_CASE("the child inherits no file descriptors but stdio and its channel", "[process]") {
  int leaked = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
  REQUIRE(leaked >= 0);
  auto service = procxy::spawn<Service>();
  CHECK(service->open_fds() == std::vector<int>{0, 1, 2, 3});
  ::close(leaked);
}

TEST_CASE("the child starts with every signal unblocked and at its default", "[process]") {
  // A parent that ignores SIGUSR1 and blocks SIGUSR2 in all its threads.
  int status = 0;
  std::istringstream masks(e2e::output_of(std::string("'") + E2E_SELF + "' --print-child-signals", status));
  REQUIRE(status == 0);
  std::string ignored, blocked;
  masks >> ignored >> blocked;
  // Hex, bit n - 1 for signal n. (glibc's posix_spawn leaves its two internal
  // signals, 32 and 33, ignored, as in every process it starts.)
  INFO("ignored " << ignored << ", blocked " << blocked);
  REQUIRE(blocked.size() == 16);
  CHECK((std::stoull(ignored, nullptr, 16) >> (SIGUSR1 - 1) & 1) == 0);
  CHECK(std::stoull(blocked, nullptr, 16) == 0);
}

TEST_CASE("a child whose parent is gone before it starts exits at once, serving nothing", "[process]") {
  pid_t gone = ::fork();  // a parent that has exited
  if (gone == 0) _exit(0);
  REQUIRE(::waitpid(gone, nullptr, 0) == gone);
  int sockets[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sockets) == 0);
  pid_t child = ::fork();
  if (child == 0) {
    ::dup2(sockets[1], 3);
    ::setenv("PROCXY_CHILD_FD", "3", 1);
    ::setenv("PROCXY_PARENT_PID", std::to_string(gone).c_str(), 1);
    ::execl("/proc/self/exe", "e2e_tests", static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(sockets[1]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  char byte;
  CHECK(::read(sockets[0], &byte, 1) == 0);  // closed without a word
  ::close(sockets[0]);
}

TEST_CASE("an agent executable serves the classes of its library", "[process]") {
  procxy::Options options;
  options.executable = E2E_AGENT;
  auto service = procxy::spawn<Service>(options, 4);
  CHECK(service->add(1, 1) == 6);
  CHECK(service->argv().at(0) == E2E_AGENT);
}

TEST_CASE("the last handle going away ends the child", "[process]") {
  pid_t pid;
  {
    auto service = procxy::spawn<Service>();
    auto copy = service;  // shared ownership
    pid = copy.pid();
    CHECK(copy->add(1, 1) == 2);
  }
  e2e::eventually(
      [&] {
        auto live = procxy::children();
        return std::find(live.begin(), live.end(), pid) == live.end();
      },
      std::chrono::seconds(5));
  auto live = procxy::children();
  CHECK(std::find(live.begin(), live.end(), pid) == live.end());
  CHECK(::kill(pid, 0) == -1);  // reaped, not a zombie
}

TEST_CASE("10 busy children die within 1 s when their parent is SIGKILLed (20 rounds)", "[process]") {
  constexpr std::size_t kChildren = 10;
  // Orphaned grandchildren are re-parented to us, so we can reap and time them.
  REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
  for (int round = 0; round < 20; ++round) {
    int out[2];
    REQUIRE(::pipe(out) == 0);
    pid_t parent = ::fork();
    if (parent == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::execl("/proc/self/exe", "e2e_tests", "--spawn-and-hang", std::to_string(kChildren).c_str(),
              static_cast<char*>(nullptr));
      _exit(127);
    }
    ::close(out[1]);
    std::vector<pid_t> grandchildren;
    FILE* lines = ::fdopen(out[0], "r");
    char line[32];
    while (grandchildren.size() < kChildren && std::fgets(line, sizeof line, lines)) {
      grandchildren.push_back(std::atoi(line));
    }
    ::fclose(lines);
    REQUIRE(grandchildren.size() == kChildren);

    ::kill(parent, SIGKILL);
    ::waitpid(parent, nullptr, 0);
    auto deadline = std::chrono::steady_clock::now() + e2e::bound(std::chrono::seconds(1));
    for (pid_t child : grandchildren) {
      bool gone = false;
      while (!gone && std::chrono::steady_clock::now() < deadline) {
        gone = ::waitpid(child, nullptr, WNOHANG) == child;
        if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      CHECK(gone);
      if (!gone) {
        ::kill(child, SIGKILL);
        ::waitpid(child, nullptr, 0);
      }
    }
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
}

TEST_CASE("children() lists live children", "[process]") {
  auto a = procxy::spawn<Service>(1);
  auto b = procxy::spawn<Service>(2);
  auto live = procxy::children();
  CHECK(std::find(live.begin(), live.end(), a.pid()) != live.end());
  CHECK(std::find(live.begin(), live.end(), b.pid()) != live.end());
  CHECK(std::is_sorted(live.begin(), live.end()));
}
