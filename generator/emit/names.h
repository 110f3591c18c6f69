#pragma once

// Spellings the views share: Cap'n Proto names, identifiers, hex literals.

#include <cstdint>
#include <set>
#include <string>

namespace procxy::emit {

// "0x00000000000000ff".
std::string hex(std::uint64_t value);

// "slow_square" -> "SlowSquare", "demo::Point" -> "DemoPoint" (see names.cpp).
std::string camel(const std::string& name);

// "value" -> "Value".
std::string capitalize(std::string name);

// `text` as a C++ identifier: "my-lib" -> "my_lib", "7z" -> "_7z".
std::string identifier(const std::string& text);

// Hands out schema names that are unique within one .capnp file and do not
// shadow Cap'n Proto's own (a user struct named Data must not become `Data`).
class Names {
 public:
  Names();

  // `wanted`, or `wanted` with the first free number from 2 on appended.
  std::string unique(const std::string& wanted);

 private:
  std::set<std::string> used_;
};

}  // namespace procxy::emit
