// SPEC §8, §14: procxy's log: timestamps, the sink, what category call
// covers, lines that are always written, and unknown categories.

#include <catch2/catch.hpp>
#include <mutex>
#include <regex>
#include <string>
#include <vector>

#include "service.procxy.h"
#include "test_support.h"

namespace {

int count_of(const std::string& text, const std::string& part) {
  int count = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

}  // namespace

TEST_CASE("a sink receives the call category's timeouts, retries, exceptions and restarts", "[log]") {
  std::string command = std::string("PROCXY_DEBUG=call '") + E2E_SELF + "' --log-to-sink 2>/dev/null";
  int status = 0;
  std::string text = e2e::output_of(command, status);
  CHECK(status == 0);
  CHECK_THAT(text, Catch::Contains("call|call ") && Catch::Contains(" e2e::Service::slow_first -> child "));
  CHECK_THAT(text, Catch::Contains("call|timeout: e2e::Service::slow_first after ") &&
                       Catch::Contains("(CallOptions::timeout), attempt 1 of 2"));
  CHECK_THAT(text, Catch::Contains("call|retrying query e2e::Service::slow_first (attempt 2 of 2)"));
  CHECK_THAT(text, Catch::Contains("call|e2e::Service::throw_std threw in the child: ") && Catch::Contains("index 7"));
  CHECK_THAT(text, Catch::Contains("call|restarted e2e::Service: child "));
  // The sink gets the text alone; the pid and the time are stderr's.
  CHECK_THAT(text, !Catch::Contains("procxy["));
}

TEST_CASE("stderr lines carry the pid and a UTC timestamp; unknown categories are reported once", "[log]") {
  std::string command =
      std::string("PROCXY_DEBUG=event,bogus,spawn,,nope '") + E2E_SELF + "' --throwing-listener 2>&1 >/dev/null";
  int status = 0;
  std::string text = e2e::output_of(command, status);
  CHECK(status == 0);
  CHECK(std::regex_search(
      text,
      std::regex(
          R"(procxy\[\d+\] \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z event: a listener of e2e::Service::progress threw std::runtime_error: listener trouble)")));
  CHECK(count_of(text, "PROCXY_DEBUG names unknown categories 'bogus', 'nope', which are ignored") == 1);
}

TEST_CASE("a listener that throws reaches the sink without PROCXY_DEBUG", "[log][events]") {
  std::mutex mutex;
  std::vector<std::string> lines;
  procxy::set_log_sink([&](std::string_view category, std::string_view line) {
    std::lock_guard<std::mutex> lock(mutex);
    lines.push_back(std::string(category) + "|" + std::string(line));
  });
  {
    auto service = procxy::spawn<e2e::Service>();
    service.on(&e2e::Service::progress, [](int) { throw std::length_error("too long"); });
    service->emit_progress(2);
  }
  procxy::set_log_sink({});
  std::lock_guard<std::mutex> lock(mutex);
  CHECK(std::count(lines.begin(), lines.end(),
                   "event|a listener of e2e::Service::progress threw std::length_error: too long; delivering the "
                   "next events") == 2);
}
