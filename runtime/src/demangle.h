#pragma once

// Type names for messages.

#include <string>

namespace procxy::detail {

// "St13runtime_error" -> "std::runtime_error"; the name itself if it cannot.
std::string demangle(const char* name);

}  // namespace procxy::detail
