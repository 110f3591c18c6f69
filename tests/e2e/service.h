#pragma once

// The class the end-to-end tests run in real children: one method per thing
// the tests need the child to do.

#include <procxy/annotate.h>

#include <cstdint>
#include <string>
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
  void throw_custom(const std::string& message);
  void throw_int(int value);
  void crash(const std::string& how);  // "segv", "abort", "exit3", "hang"
  void sleep_ms(int ms);

  // The child's view of its process.
  std::int32_t pid() const;  // named like a Proxy handle operation on purpose
  std::string env(const std::string& name) const;
  bool has_env(const std::string& name) const;
  std::string cwd() const;
  std::vector<std::string> argv() const;
  std::vector<int> open_fds() const;

 private:
  std::string name_;
  int base_ = 0;
  std::int64_t counter_ = 0;
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
