#include "log.h"

#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace procxy::detail {
namespace {

struct Category {
  const char* name;
  LogCategory category;
};
constexpr Category kCategories[] = {
    {"spawn", LogCategory::kSpawn}, {"call", LogCategory::kCall},         {"event", LogCategory::kEvent},
    {"dedup", LogCategory::kDedup}, {"coalesce", LogCategory::kCoalesce}, {"attach", LogCategory::kAttach},
};

unsigned parse_mask() {
  const char* value = std::getenv("PROCXY_DEBUG");
  if (!value) return 0;
  unsigned mask = 0;
  std::string list = value;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string item = list.substr(start, end - start);
    if (item == "all") mask = ~0u;
    for (const Category& c : kCategories) {
      if (item == c.name) mask |= static_cast<unsigned>(c.category);
    }
    start = end + 1;
  }
  return mask;
}

const char* name_of(LogCategory category) {
  for (const Category& c : kCategories) {
    if (c.category == category) return c.name;
  }
  return "?";
}

}  // namespace

bool log_enabled(LogCategory category) {
  static const unsigned mask = parse_mask();
  return (mask & static_cast<unsigned>(category)) != 0;
}

void log(LogCategory category, const char* format, ...) {
  if (!log_enabled(category)) return;
  char line[1024];
  int prefix = std::snprintf(line, sizeof line, "procxy[%d] %s: ", static_cast<int>(getpid()), name_of(category));
  va_list args;
  va_start(args, format);
  std::vsnprintf(line + prefix, sizeof line - static_cast<size_t>(prefix) - 1, format, args);
  va_end(args);
  size_t length = std::strlen(line);
  line[length] = '\n';
  // One write per line keeps lines of concurrent threads and processes whole.
  [[maybe_unused]] ssize_t written = ::write(STDERR_FILENO, line, length + 1);
}

}  // namespace procxy::detail
