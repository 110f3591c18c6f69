#pragma once

// The class fuzz_message dispatches to: parameters of every kind the wire
// carries, and bodies that do nothing, so that what is fuzzed is decoding
// (and encoding the echoed results), not what an object does with its input.

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
#include <utility>
#include <variant>
#include <vector>

namespace fuzz {

enum class Mode : std::uint8_t { a, b };

struct Inner {
  std::string text;
  std::vector<double> values;
  std::optional<std::int32_t> maybe;
};

struct Outer {
  Inner inner;
  std::vector<Inner> inners;
  Mode mode;
};

class PROCXY_REMOTE Sink {
 public:
  void scalars(bool, std::int8_t, std::uint16_t, std::int32_t, std::uint64_t, float, double, char, Mode) {}
  void strings(const std::string&, std::string_view, const std::filesystem::path&, const std::vector<std::byte>&) {}
  void containers(const std::vector<Outer>&, const std::map<std::string, std::int64_t>&, const std::set<std::int32_t>&,
                  const std::unordered_map<std::int32_t, std::string>&, const std::array<std::int16_t, 3>&) {}
  void composites(const std::variant<std::int32_t, std::string, Inner>&, const std::tuple<std::int32_t, Inner>&,
                  const std::pair<std::string, double>&, const std::optional<Outer>&) {}
  void times(std::chrono::milliseconds, std::chrono::system_clock::time_point) {}
  std::vector<Outer> echo(const std::vector<Outer>& values) { return values; }
};

}  // namespace fuzz
