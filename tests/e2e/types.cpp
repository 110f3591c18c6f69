#include "types.h"

namespace e2e::types {
bool Types::boolean(bool value) { return value; }
char Types::character(char value) { return value; }
signed char Types::signed_char(signed char value) { return value; }
unsigned char Types::unsigned_char(unsigned char value) { return value; }
std::int8_t Types::i8(std::int8_t value) { return value; }
std::uint8_t Types::u8(std::uint8_t value) { return value; }
std::int16_t Types::i16(std::int16_t value) { return value; }
std::uint16_t Types::u16(std::uint16_t value) { return value; }
std::int32_t Types::i32(std::int32_t value) { return value; }
std::uint32_t Types::u32(std::uint32_t value) { return value; }
std::int64_t Types::i64(std::int64_t value) { return value; }
std::uint64_t Types::u64(std::uint64_t value) { return value; }
short Types::short_int(short value) { return value; }
unsigned short Types::unsigned_short(unsigned short value) { return value; }
long Types::long_int(long value) { return value; }
unsigned long Types::unsigned_long(unsigned long value) { return value; }
long long Types::long_long(long long value) { return value; }
unsigned long long Types::unsigned_long_long(unsigned long long value) { return value; }
float Types::f32(float value) { return value; }
double Types::f64(double value) { return value; }
Shade Types::shade(Shade value) { return value; }
Legacy Types::legacy(Legacy value) { return value; }
std::string Types::text(const std::string& value) { return value; }
std::string Types::view(std::string_view value) { return std::string(value); }
std::filesystem::path Types::path(const std::filesystem::path& value) { return value; }
std::vector<std::int32_t> Types::ints(const std::vector<std::int32_t>& value) { return value; }
std::vector<std::string> Types::strings(std::vector<std::string> value) { return value; }
std::vector<bool> Types::bools(const std::vector<bool>& value) { return value; }
std::vector<std::vector<double>> Types::matrix(const std::vector<std::vector<double>>& value) { return value; }
std::array<double, 4> Types::array(const std::array<double, 4>& value) { return value; }
std::map<std::string, std::int64_t> Types::ordered_map(const std::map<std::string, std::int64_t>& value) {
  return value;
}
std::unordered_map<std::int32_t, std::string> Types::hash_map(
    const std::unordered_map<std::int32_t, std::string>& value) {
  return value;
}
std::set<std::string> Types::ordered_set(const std::set<std::string>& value) { return value; }
std::unordered_set<std::int64_t> Types::hash_set(const std::unordered_set<std::int64_t>& value) { return value; }
std::optional<std::string> Types::maybe(const std::optional<std::string>& value) { return value; }
std::optional<Inner> Types::maybe_inner(const std::optional<Inner>& value) { return value; }
std::variant<std::int32_t, std::string, Inner> Types::variant(
    const std::variant<std::int32_t, std::string, Inner>& value) {
  return value;
}
std::pair<std::string, double> Types::pair(const std::pair<std::string, double>& value) { return value; }
std::tuple<std::int32_t, std::string, std::vector<bool>> Types::tuple(
    const std::tuple<std::int32_t, std::string, std::vector<bool>>& value) {
  return value;
}
std::vector<std::byte> Types::bytes(const std::vector<std::byte>& value) { return value; }
std::vector<std::uint8_t> Types::octets(const std::vector<std::uint8_t>& value) { return value; }
std::uint64_t Types::octet_count(const std::vector<std::uint8_t>& value) { return value.size(); }
std::vector<std::uint8_t> Types::make_octets(std::uint64_t count) { return std::vector<std::uint8_t>(count, 0xab); }
Milliseconds Types::millis(Milliseconds value) { return value; }
std::chrono::nanoseconds Types::nanos(std::chrono::nanoseconds value) { return value; }
std::chrono::duration<double> Types::seconds(std::chrono::duration<double> value) { return value; }
std::chrono::system_clock::time_point Types::when(std::chrono::system_clock::time_point value) { return value; }
Record Types::record(const Record& value) { return value; }
Deep Types::deep(const Deep& value) { return value; }
void Types::nothing() {}
std::vector<std::vector<std::uint8_t>> Types::make_chunks(std::uint32_t count, std::uint32_t size) {
  return std::vector<std::vector<std::uint8_t>>(count, std::vector<std::uint8_t>(size, 0xcd));
}
std::uint64_t Types::chunk_bytes(const std::vector<std::vector<std::uint8_t>>& chunks) {
  std::uint64_t total = 0;
  for (const auto& chunk : chunks) total += chunk.size();
  return total;
}

}  // namespace e2e::types
