#pragma once

// The class the end-to-end tests run in real children: one method per thing
// the tests need the child to do.

#include <procxy/annotate.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace e2e {

struct Item {
  std::string name;
  std::int64_t count;
  std::vector<double> weights;
};

struct Nested {
  Item item;
  std::vector<Item> items;
  bool flag;
};

enum class Color : std::int16_t { red = -1, green = 7 };
enum Plain { kZero, kOne };

class PROCXY_REMOTE Service {
 public:
  Service();
  explicit Service(int base);
  Service(const std::string& name, int base = 5);
  ~Service();

  // Values.
  int add(int a, int b);
  long add(long a, long b, long c);
  int base() const;
  std::string name() const;
  std::string echo(const std::string& text);
  std::vector<std::int32_t> reverse(std::vector<std::int32_t> values);
  Nested roundtrip(const Nested& value);
  Color next(Color color);
  Plain flip(Plain plain);
  std::uint64_t u64(std::uint64_t value);
  std::int64_t i64(std::int64_t value);
  std::int8_t i8(std::int8_t value);
  double f64(double value);
  float f32(float value);
  bool negate(bool value);
  char upper(char value);
  std::int64_t increment();  // state kept in the child between calls

  // Failures.
  void throw_std(const std::string& type, const std::string& message);
  void throw_without_line_info(const std::string& message);  // in a file built with -g0
  void throw_custom(const std::string& message);
  void throw_int(int value);
  // how: "kill" (SIGKILL), "segv", "abort", "terminate" (std::terminate),
  // "exit3", "hang". Writes the steady clock (ns) to `stamp`, when given, just
  // before.
  void crash(const std::string& how, const std::string& stamp = "");
  void crash_later(const std::string& how, int ms, const std::string& stamp);  // from a thread, between calls
  void sleep_ms(int ms);

  // Events.
  PROCXY_EVENT void progress(int percent);
  PROCXY_EVENT void note(const std::string& text, const Item& item);
  void emit_progress(int count);              // progress(0) ... progress(count - 1), then returns
  void emit_then_sleep(int percent, int ms);  // the event goes out while the method still runs
  void emit_from_thread(int count);           // a thread of the object emits notes; returns at once
  std::int64_t notes_emitted() const;         // how many of those the thread has emitted so far
  PROCXY_EVENT void chunk(const std::vector<std::byte>& data);
  // chunk(data) `count` times, with data[0] set to the chunk's number, then
  // returns data with data[0] the count (a by-value argument and result).
  std::vector<std::byte> emit_chunks(std::vector<std::byte> data, int count);

  // Supervision.
  PROCXY_QUERY std::int64_t slow_first(int ms) const;  // the first run sleeps `ms`; returns the runs so far
  std::int64_t slow_first_mutation(int ms);            // the same, not a query
  PROCXY_QUERY std::int32_t die_once(const std::string& marker) const;  // SIGKILLs itself unless `marker` exists
  int rendezvous(int parties);  // returns once `parties` calls are inside at once; throws after 10 s

  // Coalescing and caching. Each counts its runs in the child: see runs().
  PROCXY_QUERY int slow_query(int value, int ms) const;       // sleeps `ms`, returns 2 * value
  PROCXY_QUERY int failing_query(int value, int ms) const;    // sleeps `ms`, throws std::runtime_error
  PROCXY_QUERY int wait_for_cancel(int value, int ms) const;  // waits `ms` at most for its stop token; runs("cancel
                                                              // seen") counts the stops it saw
  PROCXY_CACHE(300) int cached_square(int value) const;       // throws std::domain_error for a negative value
  int slow_mutation(int value, int ms);                       // sleeps `ms`, returns value
  std::int64_t runs(const std::string& method) const;

  // The child's view of its process.
  std::int32_t pid() const;   // named like a Proxy handle operation on purpose
  int hold_files(int count);  // opens `count` descriptors more and keeps them; returns how many it holds
  std::string env(const std::string& name) const;
  bool has_env(const std::string& name) const;
  std::string cwd() const;
  std::vector<std::string> argv() const;
  std::vector<int> open_fds() const;
  std::string proc_status(const std::string& field) const;  // the value of a line of /proc/self/status

 private:
  std::string name_;
  int base_ = 0;
  std::int64_t counter_ = 0;
  mutable std::atomic<std::int64_t> slow_runs_{0};
  std::atomic<std::int64_t> notes_emitted_{0};
  std::mutex mutex_;
  std::condition_variable arrived_;
  int inside_ = 0;
  std::vector<std::thread> threads_;
  std::vector<int> held_files_;
  mutable std::mutex runs_mutex_;
  mutable std::map<std::string, std::int64_t> runs_;
  void count(const std::string& method) const;
};

// A class whose constructor throws.
class PROCXY_REMOTE Fragile {
 public:
  explicit Fragile(int code);
  int code() const;

 private:
  int code_;
};

}  // namespace e2e
