#pragma once

// A child's resident memory, as Options::limits.max_rss measures it.

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace procxy::detail {

// The resident set of process `pid` in bytes (/proc/<pid>/statm), or nothing
// when it cannot be read (the process is gone).
std::optional<std::uint64_t> resident_bytes(pid_t pid);

}  // namespace procxy::detail
