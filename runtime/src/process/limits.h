#pragma once

// Options::limits memory, cpu and open_files, set by the child on itself.
// The parent starts a child with posix_spawn, which runs nothing of ours
// between fork and exec, so the parent passes the limits in the child's
// environment (kLimitsVariable) and the child sets them with setrlimit before
// its main() runs (child/serve_if_child.cpp), as it sets its parent-death
// signal. max_rss is the parent's to check, after each call.

#include <cstdint>
#include <optional>
#include <string>

#include "procxy/options.h"

namespace procxy::detail {

inline constexpr const char* kLimitsVariable = "PROCXY_LIMITS";

// Parent side: the value of kLimitsVariable for `limits`
// ("memory=536870912,cpu=1,open_files=32"), or "" when none of memory, cpu
// and open_files is set.
std::string limits_variable(const Limits& limits);

// Child side: sets the limits that `value` (kLimitsVariable) holds:
// memory -> RLIMIT_AS and open_files -> RLIMIT_NOFILE, soft = hard = the
// value; cpu -> RLIMIT_CPU, soft = the value and hard = one second more, so
// that the child gets SIGXCPU (which names the limit) before SIGKILL.
// Returns "" or, for the first limit that could not be set, the whole
// explanation for the parent's SpawnError.
std::string apply_limits(const char* value);

// Child side: the address-space limit apply_limits() set for
// Options::limits.memory, if it set one.
std::optional<std::uint64_t> memory_limit_applied();

}  // namespace procxy::detail
