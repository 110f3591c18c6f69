#pragma once

// One method per type of SPEC §1: each returns its argument (or says
// something about it), so the tests can round-trip every type through a real
// child. It is also the "everything" header: it must compile warning-free
// under g++ and clang with -Wall -Wextra -Werror.

#include <procxy/annotate.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

namespace e2e::types {

enum class Shade : std::uint8_t { light, dark };
enum Legacy : int { kLegacyLow = -5, kLegacyHigh = 9 };

struct Inner {
  std::string label;
  std::optional<int> weight;
};

struct Record {
  Inner inner;
  std::vector<Inner> many;
  std::map<std::string, Inner> by_name;
  std::array<std::int16_t, 3> triple;
  std::variant<int, std::string> either;
};

using Milliseconds = std::chrono::milliseconds;
using Deep = std::map<std::string, std::vector<std::pair<int, std::string>>>;

class PROCXY_REMOTE Types {
 public:
  bool boolean(bool value);
  char character(char value);
  signed char signed_char(signed char value);
  unsigned char unsigned_char(unsigned char value);
  std::int8_t i8(std::int8_t value);
  std::uint8_t u8(std::uint8_t value);
  std::int16_t i16(std::int16_t value);
  std::uint16_t u16(std::uint16_t value);
  std::int32_t i32(std::int32_t value);
  std::uint32_t u32(std::uint32_t value);
  std::int64_t i64(std::int64_t value);
  std::uint64_t u64(std::uint64_t value);
  short short_int(short value);
  unsigned short unsigned_short(unsigned short value);
  long long_int(long value);
  unsigned long unsigned_long(unsigned long value);
  long long long_long(long long value);
  unsigned long long unsigned_long_long(unsigned long long value);
  float f32(float value);
  double f64(double value);
  Shade shade(Shade value);
  Legacy legacy(Legacy value);

  std::string text(const std::string& value);
  std::string view(std::string_view value);
  std::filesystem::path path(const std::filesystem::path& value);

  std::vector<std::int32_t> ints(const std::vector<std::int32_t>& value);
  std::vector<std::string> strings(std::vector<std::string> value);
  std::vector<bool> bools(const std::vector<bool>& value);
  std::vector<std::vector<double>> matrix(const std::vector<std::vector<double>>& value);
  std::array<double, 4> array(const std::array<double, 4>& value);
  std::map<std::string, std::int64_t> ordered_map(const std::map<std::string, std::int64_t>& value);
  std::unordered_map<std::int32_t, std::string> hash_map(const std::unordered_map<std::int32_t, std::string>& value);
  std::set<std::string> ordered_set(const std::set<std::string>& value);
  std::unordered_set<std::int64_t> hash_set(const std::unordered_set<std::int64_t>& value);
  std::optional<std::string> maybe(const std::optional<std::string>& value);
  std::optional<Inner> maybe_inner(const std::optional<Inner>& value);
  std::variant<std::int32_t, std::string, Inner> variant(const std::variant<std::int32_t, std::string, Inner>& value);
  std::pair<std::string, double> pair(const std::pair<std::string, double>& value);
  std::tuple<std::int32_t, std::string, std::vector<bool>> tuple(
      const std::tuple<std::int32_t, std::string, std::vector<bool>>& value);
  std::vector<std::byte> bytes(const std::vector<std::byte>& value);
  std::vector<std::uint8_t> octets(const std::vector<std::uint8_t>& value);
  std::uint64_t octet_count(const std::vector<std::uint8_t>& value);
  std::vector<std::uint8_t> make_octets(std::uint64_t count);
  std::vector<std::vector<std::uint8_t>> make_chunks(std::uint32_t count, std::uint32_t size);
  std::uint64_t chunk_bytes(const std::vector<std::vector<std::uint8_t>>& chunks);
  Milliseconds millis(Milliseconds value);
  std::chrono::nanoseconds nanos(std::chrono::nanoseconds value);
  std::chrono::duration<double> seconds(std::chrono::duration<double> value);
  std::chrono::system_clock::time_point when(std::chrono::system_clock::time_point value);
  Record record(const Record& value);
  Deep deep(const Deep& value);
  void nothing();
};

}  // namespace e2e::types
