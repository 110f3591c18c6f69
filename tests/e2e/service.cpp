#include "service.h"

#include <dirent.h>
#include <fcntl.h>
#include <procxy/procxy.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

namespace e2e {

struct CustomError {
  std::string message;
};

// E2E_CONSTRUCT_MS in the child's environment makes construction slow: the
// shared-child tests kill a starter mid-start.
Service::Service() {
  if (const char* ms = std::getenv("E2E_CONSTRUCT_MS")) {
    std::fprintf(stderr, "e2e: constructing for %s ms\n", ms);  // a shared child's log: the start is under way
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(ms)));
  }
  if (const char* runs = std::getenv("E2E_CONSTRUCT_FAIL")) {
    std::ofstream(runs, std::ios::app) << "run\n";
    throw std::runtime_error("e2e: the constructor fails on purpose");
  }
}
Service::Service(int base) : base_(base) {}
Service::Service(const std::string& name, int base) : name_(name), base_(base) {}

int Service::add(int a, int b) { return base_ + a + b; }
long Service::add(long a, long b, long c) { return base_ + a + b + c; }
int Service::base() const { return base_; }
std::string Service::name() const { return name_; }
std::string Service::echo(const std::string& text) { return text; }
std::vector<std::int32_t> Service::reverse(std::vector<std::int32_t> values) {
  std::reverse(values.begin(), values.end());
  return values;
}
Nested Service::roundtrip(const Nested& value) { return value; }
Color Service::next(Color color) { return color == Color::red ? Color::green : Color::red; }
Plain Service::flip(Plain plain) { return plain == kZero ? kOne : kZero; }
std::uint64_t Service::u64(std::uint64_t value) { return value; }
std::int64_t Service::i64(std::int64_t value) { return value; }
std::int8_t Service::i8(std::int8_t value) { return value; }
double Service::f64(double value) { return value; }
float Service::f32(float value) { return value; }
bool Service::negate(bool value) { return !value; }
char Service::upper(char value) { return static_cast<char>(std::toupper(static_cast<unsigned char>(value))); }
std::int64_t Service::increment() { return ++counter_; }

void Service::throw_std(const std::string& type, const std::string& message) {
  if (type == "invalid_argument") throw std::invalid_argument(message);
  if (type == "domain_error") throw std::domain_error(message);
  if (type == "length_error") throw std::length_error(message);
  if (type == "out_of_range") throw std::out_of_range(message);
  if (type == "logic_error") throw std::logic_error(message);
  if (type == "range_error") throw std::range_error(message);
  if (type == "overflow_error") throw std::overflow_error(message);
  if (type == "underflow_error") throw std::underflow_error(message);
  if (type == "runtime_error") throw std::runtime_error(message);
  throw std::bad_alloc();
}

void Service::throw_custom(const std::string& message) { throw CustomError{message}; }
void Service::throw_int(int value) { throw value; }

namespace {

void write_stamp(const std::string& path) {
  if (path.empty()) return;
  std::ofstream(path) << std::chrono::steady_clock::now().time_since_epoch().count();
}

}  // namespace

void Service::crash(const std::string& how, const std::string& stamp) {
  write_stamp(stamp);
  if (how == "kill") ::kill(getpid(), SIGKILL);
  if (how == "segv") {
    // The kernel's default action, not a sanitizer's report: the test is about
    // how procxy reports a death by SIGSEGV.
    ::signal(SIGSEGV, SIG_DFL);
    ::raise(SIGSEGV);
  }
  if (how == "abort") std::abort();
  if (how == "terminate") std::terminate();
  if (how == "exit3") std::exit(3);
  if (how == "hang") std::this_thread::sleep_for(std::chrono::hours(1));
}

void Service::print(const std::vector<std::string>& out, const std::vector<std::string>& err) {
  for (const std::string& line : out) std::printf("%s\n", line.c_str());
  for (const std::string& line : err) std::fprintf(stderr, "%s\n", line.c_str());
}

void Service::print_and_abort(const std::string& line, const std::string& partial) {
  std::printf("%s\n", line.c_str());
  std::fputs(partial.c_str(), stderr);
  std::abort();
}

void Service::crash_later(const std::string& how, int ms, const std::string& stamp) {
  threads_.emplace_back([this, how, ms, stamp] {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    crash(how, stamp);
  });
}

Service::~Service() {
  for (std::thread& thread : threads_) thread.join();
  for (int fd : held_files_) ::close(fd);
}

void Service::emit_progress(int count) {
  for (int i = 0; i < count; ++i) progress(i);
}

void Service::emit_then_sleep(int percent, int ms) {
  progress(percent);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

void Service::emit_from_thread(int count) {
  threads_.emplace_back([this, count] {
    for (int i = 0; i < count; ++i) {
      note("note " + std::to_string(i), Item{"item", i, {0.5 * i}});
      ++notes_emitted_;
    }
  });
}

std::int64_t Service::notes_emitted() const { return notes_emitted_; }

std::vector<std::byte> Service::emit_chunks(std::vector<std::byte> data, int count) {
  for (int i = 0; i < count; ++i) {
    data.at(0) = static_cast<std::byte>(i);
    chunk(data);  // sent before it returns: changing data next cannot change this event
  }
  data.at(0) = static_cast<std::byte>(count);
  return data;
}

std::int64_t Service::slow_first(int ms) const {
  std::int64_t run = ++slow_runs_;
  if (run == 1) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return run;
}

std::int64_t Service::slow_first_mutation(int ms) { return slow_first(ms); }

std::int32_t Service::die_once(const std::string& marker) const {
  if (!std::ifstream(marker)) {
    std::ofstream(marker) << "died once";
    ::kill(getpid(), SIGKILL);
  }
  return static_cast<std::int32_t>(getpid());
}

int Service::rendezvous(int parties) {
  std::unique_lock<std::mutex> lock(mutex_);
  ++inside_;
  arrived_.notify_all();
  bool met = arrived_.wait_for(lock, std::chrono::seconds(10), [&] { return inside_ >= parties; });
  if (!met)
    throw std::runtime_error("only " + std::to_string(inside_) + " of " + std::to_string(parties) + " calls arrived");
  return parties;
}

void Service::sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::int32_t Service::pid() const { return static_cast<std::int32_t>(getpid()); }

int Service::hold_files(int count) {
  for (int i = 0; i < count; ++i) {
    int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) break;
    held_files_.push_back(fd);
  }
  return static_cast<int>(held_files_.size());
}

std::string Service::env(const std::string& name) const {
  const char* value = std::getenv(name.c_str());
  return value ? value : "";
}

bool Service::has_env(const std::string& name) const { return std::getenv(name.c_str()) != nullptr; }

std::string Service::cwd() const {
  char buffer[4096];
  return ::getcwd(buffer, sizeof buffer) ? buffer : "";
}

std::vector<std::string> Service::argv() const {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  size_t start = 0;
  while (start < all.size()) {
    size_t end = all.find('\0', start);
    args.push_back(all.substr(start, end - start));
    start = end + 1;
  }
  return args;
}

std::vector<int> Service::open_fds() const {
  std::vector<int> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  int own = ::dirfd(dir);
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    int fd = std::atoi(entry->d_name);
    if (fd != own) fds.push_back(fd);
  }
  ::closedir(dir);
  std::sort(fds.begin(), fds.end());
  return fds;
}

std::string Service::proc_status(const std::string& field) const {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) return line.substr(line.find_first_not_of(" \t", field.size() + 1));
  }
  return "";
}

void Service::count(const std::string& method) const {
  std::lock_guard<std::mutex> lock(runs_mutex_);
  ++runs_[method];
}

std::int64_t Service::runs(const std::string& method) const {
  std::lock_guard<std::mutex> lock(runs_mutex_);
  auto it = runs_.find(method);
  return it == runs_.end() ? 0 : it->second;
}

int Service::slow_query(int value, int ms) const {
  count("slow_query");
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return 2 * value;
}

int Service::failing_query(int value, int ms) const {
  count("failing_query");
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  throw std::runtime_error("failing_query(" + std::to_string(value) + ") failed");
}

int Service::wait_for_cancel(int value, int ms) const {
  count("wait_for_cancel");
  std::stop_token stop = procxy::call_stop_token();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!stop.stop_requested() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (stop.stop_requested()) count("cancel seen");
  return value;
}

int Service::cached_square(int value) const {
  count("cached_square");
  if (value < 0) throw std::domain_error("cached_square of a negative value");
  return value * value;
}

int Service::slow_mutation(int value, int ms) {
  count("slow_mutation");
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return value;
}

Fragile::Fragile(int code) : code_(code) {
  if (code < 0) throw std::invalid_argument("code must not be negative, got " + std::to_string(code));
}

int Fragile::code() const { return code_; }

}  // namespace e2e
