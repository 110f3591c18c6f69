#pragma once

// Why a child's exit may have been caused by one of its Options::limits,
// in words for the ChildExitedError of every call it failed.

#include <string>

#include "procxy/options.h"
#include "procxy/proxy.h"

namespace procxy::detail {

// "the child exceeded its CPU time limit of 1 s (Options::limits.cpu,
// RLIMIT_CPU)" for a child that SIGXCPU killed under a cpu limit; "" when no
// limit explains `status`.
std::string limit_reason(const ExitStatus& status, const Limits& limits);

}  // namespace procxy::detail
