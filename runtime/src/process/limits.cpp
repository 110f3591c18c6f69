#include "process/limits.h"

#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace procxy::detail {
namespace {

// Set once, before main(), by apply_limits(); zero: none. A plain integer is
// constant-initialized, so it holds before any constructor runs.
std::uint64_t g_memory_limit = 0;

struct LimitField {
  std::string_view field;  // the Options::limits field
  int resource;
  const char* resource_name;
  const char* unit;    // after the value in messages
  const char* ulimit;  // the shell's way to see the hard limit
};

constexpr LimitField kFields[] = {
    {"memory", RLIMIT_AS, "RLIMIT_AS", " bytes", "`ulimit -Hv`, in KiB"},
    {"cpu", RLIMIT_CPU, "RLIMIT_CPU", " s", "`ulimit -Ht`, in seconds"},
    {"open_files", RLIMIT_NOFILE, "RLIMIT_NOFILE", "", "`ulimit -Hn`"},
};

const LimitField* find_field(std::string_view name) {
  for (const LimitField& field : kFields) {
    if (field.field == name) return &field;
  }
  return nullptr;
}

std::string shown(rlim_t value) { return value == RLIM_INFINITY ? "unlimited" : std::to_string(value); }

// Why `field` = `value` could not be set, and what to do.
std::string refusal(const LimitField& field, std::uint64_t value, int error) {
  std::string text = "procxy: child " + std::to_string(::getpid()) + ": cannot set Options::limits." +
                     std::string(field.field) + " = " + std::to_string(value) + field.unit + " (" +
                     field.resource_name + "): " + std::strerror(error);
  rlimit current{};
  if (::getrlimit(field.resource, &current) != 0 || error != EPERM) return text;
  text += "; the hard limit this child inherited is " + shown(current.rlim_max) + " (" + field.ulimit +
          " in the shell that started the parent), and only a privileged process may raise it";
  if (field.resource == RLIMIT_NOFILE) text += ", never above /proc/sys/fs/nr_open";
  text += ": lower Options::limits." + std::string(field.field) + " below it, or leave it unset";
  return text;
}

}  // namespace

std::string limits_variable(const Limits& limits) {
  std::string value;
  auto add = [&value](const char* name, std::uint64_t number) {
    if (!value.empty()) value += ',';
    value += std::string(name) + "=" + std::to_string(number);
  };
  if (limits.memory) add("memory", *limits.memory);
  if (limits.cpu) add("cpu", static_cast<std::uint64_t>(limits.cpu->count()));
  if (limits.open_files) add("open_files", static_cast<std::uint64_t>(*limits.open_files));
  return value;
}

std::string apply_limits(const char* value) {
  std::string_view rest = value;
  while (!rest.empty()) {
    std::string_view item = rest.substr(0, rest.find(','));
    rest.remove_prefix(std::min(rest.size(), item.size() + 1));
    std::size_t equals = item.find('=');
    const LimitField* field = find_field(item.substr(0, equals));
    if (equals == std::string_view::npos || !field) {
      return "procxy: child " + std::to_string(::getpid()) + ": cannot read the limits its parent passed (" +
             std::string(kLimitsVariable) + "=" + value + "); parent and child must be built with the same procxy";
    }
    std::uint64_t number = std::strtoull(std::string(item.substr(equals + 1)).c_str(), nullptr, 10);
    rlimit limit{static_cast<rlim_t>(number), static_cast<rlim_t>(number)};
    if (field->resource == RLIMIT_CPU) limit.rlim_max = limit.rlim_cur + 1;
    if (::setrlimit(field->resource, &limit) != 0) return refusal(*field, number, errno);
    if (field->resource == RLIMIT_AS) g_memory_limit = number;
  }
  return "";
}

std::optional<std::uint64_t> memory_limit_applied() {
  if (g_memory_limit == 0) return std::nullopt;
  return g_memory_limit;
}

}  // namespace procxy::detail
