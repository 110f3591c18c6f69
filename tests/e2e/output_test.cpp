// Options::output: where a child's stdout and stderr go, read back from real
// children. No test waits for lines to arrive: a child's output up to its
// death is in before its death is reported (ChildExitedError, terminate()).

#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "service.procxy.h"
#include "shared_support.h"
#include "test_support.h"

using e2e::Service;

namespace {

// The lines an Output::to() callback was given, by fd. Shared with the
// callback, which the runtime's thread may still hold after a test ends.
class Lines {
 public:
  static procxy::Output to(const std::shared_ptr<Lines>& lines) {
    return procxy::Output::to([lines](int fd, std::string_view line) { lines->add(fd, line); });
  }
  void add(int fd, std::string_view line) {
    std::lock_guard<std::mutex> lock(mutex_);
    (fd == 1 ? out_ : fd == 2 ? err_ : other_).emplace_back(line);
  }
  std::vector<std::string> of(int fd) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return fd == 1 ? out_ : fd == 2 ? err_ : other_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> out_, err_, other_;
};

procxy::Options separate(procxy::Output output) {
  procxy::Options options;
  options.dedupe = false;
  options.output = std::move(output);
  return options;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs e2e_tests --print-with `mode`; returns its stdout, sets `err` to its stderr.
std::string print_with(const std::string& mode, std::string& err) {
  auto err_path =
      std::filesystem::temp_directory_path() / ("procxy_output_" + std::to_string(::getpid()) + "_" + mode + ".stderr");
  int status = 0;
  std::string out =
      e2e::output_of(std::string("'") + E2E_SELF + "' --print-with " + mode + " 2>'" + err_path.string() + "'", status);
  CHECK(status == 0);
  err = read_file(err_path);
  std::filesystem::remove(err_path);
  return out;
}

// The pid of "pid <pid>" in the helper's output.
std::string pid_in(const std::string& text) {
  auto at = text.find("pid ");
  if (at == std::string::npos) return "?";
  return text.substr(at + 4, text.find('\n', at) - at - 4);
}

}  // namespace

TEST_CASE("Output::to() gets each line of stdout and stderr with its fd, up to a crash", "[output]") {
  auto lines = std::make_shared<Lines>();
  auto service = procxy::spawn<Service>(separate(Lines::to(lines)));
  service->print({"one", "", "two"}, {"three"});
  // Right before dying: a line on the line-buffered stdout, and a partial
  // line (no newline) on stderr; abort() flushes nothing.
  CHECK_THROWS_AS(service->print_and_abort("last words", "no newline"), procxy::ChildExitedError);
  CHECK(lines->of(1) == std::vector<std::string>{"one", "", "two", "last words"});
  CHECK(lines->of(2) == std::vector<std::string>{"three", "no newline"});
  CHECK(lines->of(0).empty());
}

TEST_CASE("Output::to(): a child's death is reported after its last lines, however slow the callback", "[output]") {
  auto lines = std::make_shared<Lines>();
  // 40 lines at 10 ms each: the child is long dead before the last is handed
  // on, and its death must wait for them (well within the 1 s limit).
  auto output = procxy::Output::to([lines](int fd, std::string_view line) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    lines->add(fd, line);
  });
  auto service = procxy::spawn<Service>(separate(output));
  std::vector<std::string> printed;
  for (int i = 0; i < 40; ++i) printed.push_back("line " + std::to_string(i));
  service->print(printed, {});
  CHECK_THROWS_AS(service->print_and_abort("last words", "no newline"), procxy::ChildExitedError);
  printed.push_back("last words");
  CHECK(lines->of(1) == printed);
  CHECK(lines->of(2) == std::vector<std::string>{"no newline"});
  service.wait();
}

TEST_CASE("Output::to(): the lines of two children are kept apart, whole and in order", "[output]") {
  auto lines_a = std::make_shared<Lines>();
  auto lines_b = std::make_shared<Lines>();
  auto a = procxy::spawn<Service>(separate(Lines::to(lines_a)));
  auto b = procxy::spawn<Service>(separate(Lines::to(lines_b)));
  REQUIRE(a.pid() != b.pid());
  auto numbered = [](const std::string& who) {
    std::vector<std::string> result;
    for (int i = 0; i < 500; ++i) result.push_back(who + " " + std::to_string(i) + " " + std::string(200, 'x'));
    return result;
  };
  auto out_a = numbered("a out"), err_a = numbered("a err"), out_b = numbered("b out"), err_b = numbered("b err");
  auto printed_a = a.async()->print(out_a, err_a);
  auto printed_b = b.async()->print(out_b, err_b);
  printed_a.get();
  printed_b.get();
  a.terminate();  // returns once a's lines are in
  b.terminate();
  CHECK(lines_a->of(1) == out_a);
  CHECK(lines_a->of(2) == err_a);
  CHECK(lines_b->of(1) == out_b);
  CHECK(lines_b->of(2) == err_b);
}

TEST_CASE("Output::to(): a line longer than 64 KiB arrives in pieces of 64 KiB", "[output]") {
  auto lines = std::make_shared<Lines>();
  auto service = procxy::spawn<Service>(separate(Lines::to(lines)));
  std::string long_line = std::string(150'000, 'x') + "end";
  service->print({long_line, "short"}, {});
  service.terminate();
  auto out = lines->of(1);
  REQUIRE(out.size() == 4);
  CHECK(out[0].size() == 65'536);
  CHECK(out[1].size() == 65'536);
  CHECK(out[0] + out[1] + out[2] == long_line);
  CHECK(out[3] == "short");
}

TEST_CASE("Output::to(): a callback that throws does not stop the lines after it", "[output]") {
  auto lines = std::make_shared<Lines>();
  auto output = procxy::Output::to([lines](int fd, std::string_view line) {
    lines->add(fd, line);
    if (line == "bad") throw std::runtime_error("callback trouble");
  });
  // Reported whatever PROCXY_DEBUG says: caught here through a log sink.
  auto reports = std::make_shared<Lines>();
  procxy::set_log_sink([reports](std::string_view category, std::string_view line) {
    if (category == "spawn") reports->add(1, line);
  });
  struct RestoreSink {
    ~RestoreSink() { procxy::set_log_sink({}); }
  } restore;
  auto service = procxy::spawn<Service>(separate(output));
  service->print({"before", "bad", "after"}, {"bad", "err after"});
  service->print({"later"}, {});
  service.terminate();
  CHECK(lines->of(1) == std::vector<std::string>{"before", "bad", "after", "later"});
  CHECK(lines->of(2) == std::vector<std::string>{"bad", "err after"});
  int reported = 0;
  for (const std::string& line : reports->of(1)) {
    if (line.find("the Options::output callback threw") != std::string::npos) {
      CHECK_THAT(line, Catch::Contains("e2e::Service in child ") && Catch::Contains("callback trouble"));
      ++reported;
    }
  }
  CHECK(reported == 2);
}

TEST_CASE("Output::to(): a restarted child's output goes where the first one's went", "[output]") {
  auto lines = std::make_shared<Lines>();
  auto options = separate(Lines::to(lines));
  options.restart = true;
  auto service = procxy::spawn<Service>(options);
  pid_t first = service.pid();
  service->print({"first child"}, {});
  CHECK_THROWS_AS(service->print_and_abort("dying", ""), procxy::ChildExitedError);
  service->print({"second child"}, {});  // a new child
  CHECK(service.pid() != first);
  service.terminate();
  CHECK(lines->of(1) == std::vector<std::string>{"first child", "dying", "second child"});
}

TEST_CASE("Output::to(): a deduplicated spawn shares the first spawn's output", "[output][dedup]") {
  auto first_lines = std::make_shared<Lines>();
  auto second_lines = std::make_shared<Lines>();
  procxy::Options first_options;
  first_options.output = Lines::to(first_lines);
  procxy::Options second_options;
  second_options.output = Lines::to(second_lines);
  auto first = procxy::spawn<Service>(first_options, 424242);  // a key no other test uses
  auto second = procxy::spawn<Service>(second_options, 424242);
  REQUIRE(first.pid() == second.pid());
  second->print({"through the second"}, {});
  second.terminate();
  CHECK(first_lines->of(1) == std::vector<std::string>{"through the second"});
  CHECK(second_lines->of(1).empty());
}

TEST_CASE("Output's pipes reach only their own child", "[output][process]") {
  auto lines = std::make_shared<Lines>();
  auto piped = procxy::spawn<Service>(separate(Lines::to(lines)));
  auto other = procxy::spawn<Service>(separate(Lines::to(lines)));
  auto plain = procxy::spawn<Service>(separate(procxy::Output::inherit()));
  CHECK(piped->open_fds() == std::vector<int>{0, 1, 2, 3});
  CHECK(other->open_fds() == std::vector<int>{0, 1, 2, 3});
  CHECK(plain->open_fds() == std::vector<int>{0, 1, 2, 3});
}

TEST_CASE("Output::prefix() puts each line on the parent's stdout or stderr, after the class and pid", "[output]") {
  std::string err;
  std::string out = print_with("prefix", err);
  std::string prefix = "[e2e::Service " + pid_in(out) + "] ";
  CHECK_THAT(out, Catch::Contains(prefix + "hello out\n"));
  CHECK_THAT(err, Catch::Contains(prefix + "hello err\n"));
  CHECK_THAT(out, !Catch::Contains("hello err"));
  CHECK_THAT(err, !Catch::Contains("hello out"));
}

TEST_CASE("Output::discard() drops the child's stdout and stderr", "[output]") {
  std::string err;
  std::string out = print_with("discard", err);
  CHECK_THAT(out, Catch::Contains("pid "));
  CHECK_THAT(out + err, !Catch::Contains("hello"));
}

TEST_CASE("Output::inherit(): the child writes to the parent's stdout and stderr, line by line", "[output]") {
  std::string err;
  std::string out = print_with("inherit", err);
  // Its stdout is a pipe here: line-buffered, the line is out before the child ends.
  CHECK_THAT(out, Catch::Contains("hello out\n") && !Catch::Contains("[e2e::Service"));
  CHECK_THAT(err, Catch::Contains("hello err\n"));
}

TEST_CASE("a shared child's stdout and stderr go to its log, line by line", "[output][attach]") {
  std::string name = e2e::unique_name("output");
  auto service = procxy::attach<Service>(name, e2e::shared_options());
  pid_t pid = service.pid();
  service->print({"shared out"}, {"shared err"});
  // Line-buffered: in the log once the call returns, though the child lives on.
  std::string log = e2e::log_of(name);
  CHECK_THAT(log, Catch::Contains("shared out\n") && Catch::Contains("shared err\n"));
  e2e::kill_shared(pid, name);
}

TEST_CASE("Options::output with attach() is refused before anything starts", "[output][attach]") {
  procxy::Options options;
  options.output = procxy::Output::prefix();
  try {
    procxy::attach<Service>("procxy-output-refused", options);
    FAIL("attach() accepted Options::output");
  } catch (const std::invalid_argument& e) {
    CHECK_THAT(e.what(), Catch::Contains("Options::output") && Catch::Contains("log"));
  }
  CHECK_THROWS_AS(procxy::Output::to(nullptr), std::invalid_argument);
}
