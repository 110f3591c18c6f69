#include "emit/names.h"

#include <cctype>
#include <cstdio>

namespace procxy::emit {

std::string hex(std::uint64_t value) {
  char text[32];
  std::snprintf(text, sizeof text, "0x%016llx", static_cast<unsigned long long>(value));
  return text;
}

// Cap'n Proto type names are UpperCamelCase ASCII letters and digits. A byte
// outside ASCII (an identifier's UTF-8) is written as X and its hex value, so
// "Café" -> "CafXC3XA9": deterministic, and the same name twice is still made
// unique by Names.
std::string camel(const std::string& name) {
  std::string out;
  bool upper = true;
  for (char c : name) {
    unsigned char byte = static_cast<unsigned char>(c);
    if (c == '_' || c == ':') {
      upper = true;
      continue;
    }
    if (byte >= 0x80) {
      char hex[4];
      std::snprintf(hex, sizeof hex, "X%02X", byte);
      out += hex;
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(byte)) : c;
    upper = false;
  }
  return out;
}

std::string capitalize(std::string name) {
  name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
  return name;
}

std::string identifier(const std::string& text) {
  std::string out;
  for (char c : text) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "_" + out;
  return out;
}

Names::Names()
    : used_{"Void",   "Bool",       "Int8",      "Int16",   "Int32",      "Int64", "UInt8",
            "UInt16", "UInt32",     "UInt64",    "Float32", "Float64",    "Text",  "Data",
            "List",   "AnyPointer", "AnyStruct", "AnyList", "Capability", "Cxx"} {}

std::string Names::unique(const std::string& wanted) {
  std::string name = wanted;
  for (int i = 2; !used_.insert(name).second; ++i) name = wanted + std::to_string(i);
  return name;
}

}  // namespace procxy::emit
