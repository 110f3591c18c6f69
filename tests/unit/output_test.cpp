// process/output: the pump that cuts children's output into lines, fed here
// through pipes this test writes itself, standing in for a child.

#include "process/output.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using procxy::detail::kMaxOutputLine;
using procxy::detail::pump_output;

// Lines by fd, as an Output::to() callback receives them.
struct Lines {
  std::mutex mutex;
  std::vector<std::string> out, err;
  std::vector<std::string> of(int fd) {
    std::lock_guard<std::mutex> lock(mutex);
    return fd == 1 ? out : err;
  }
};

// A stand-in child: the write ends of its stdout and stderr pipes.
struct FakeChild {
  int out = -1, err = -1;
  std::shared_ptr<procxy::detail::ChildOutput> output;
  std::shared_ptr<Lines> lines = std::make_shared<Lines>();

  FakeChild() {
    int out_pipe[2], err_pipe[2];
    REQUIRE(::pipe2(out_pipe, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(err_pipe, O_CLOEXEC) == 0);
    out = out_pipe[1];
    err = err_pipe[1];
    auto sink = lines;
    output = pump_output(out_pipe[0], err_pipe[0], "demo::Fake", 4242,
                         procxy::Output::to([sink](int fd, std::string_view line) {
                           std::lock_guard<std::mutex> lock(sink->mutex);
                           (fd == 1 ? sink->out : sink->err).emplace_back(line);
                         }));
  }
  ~FakeChild() { close_ends(); }
  void write(int fd, const std::string& text) {
    REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  }
  void close_ends() {
    if (out >= 0) ::close(out);
    if (err >= 0) ::close(err);
    out = err = -1;
  }
};

}  // namespace

TEST_CASE("output: lines are cut at newlines; an unfinished last line comes at the end", "[output]") {
  FakeChild child;
  child.write(child.out, "a\nb\n\nc");
  child.write(child.err, "e1\ne2");
  child.close_ends();  // the child exits
  child.output->drain();
  CHECK(child.lines->of(1) == std::vector<std::string>{"a", "b", "", "c"});
  CHECK(child.lines->of(2) == std::vector<std::string>{"e1", "e2"});
}

TEST_CASE("output: a line longer than the bound is handed on in pieces of the bound", "[output]") {
  FakeChild child;
  std::string line(2 * kMaxOutputLine + 5, 'x');
  std::thread writer([&] { child.write(child.out, line + "\nafter\n"); });  // more than a pipe holds
  writer.join();
  child.close_ends();
  child.output->drain();
  auto out = child.lines->of(1);
  REQUIRE(out.size() == 4);
  CHECK(out[0] == std::string(kMaxOutputLine, 'x'));
  CHECK(out[1] == std::string(kMaxOutputLine, 'x'));
  CHECK(out[2] == "xxxxx");
  CHECK(out[3] == "after");
}

TEST_CASE("output: the drain waits for what the child wrote, not for a grandchild that keeps the pipes", "[output]") {
  FakeChild child;
  child.write(child.out, "done\nunfinished");
  child.write(child.err, "err\n");
  // The pipes stay open, as when a grandchild inherited them: the drain ends
  // once what they held is handed on, unfinished line included (a drain that
  // ended by its time limit would not have flushed it).
  child.output->drain();
  CHECK(child.lines->of(1) == std::vector<std::string>{"done", "unfinished"});
  CHECK(child.lines->of(2) == std::vector<std::string>{"err"});
  // What the grandchild writes later still comes.
  child.write(child.out, "grandchild\n");
  child.close_ends();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (child.lines->of(1).size() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(child.lines->of(1) == std::vector<std::string>{"done", "unfinished", "grandchild"});
}
