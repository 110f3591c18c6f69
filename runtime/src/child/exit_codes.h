#pragma once

// Exit codes of a child that gives up; the parent reports them.

namespace procxy::detail {

inline constexpr int kExitStartFailed = 1;
inline constexpr int kExitProtocol = 70;       // the parent sent what no parent sends
inline constexpr int kExitServingFailed = 71;  // the runtime could not go on (out of threads or fds)
inline constexpr int kExitLinkLost = 72;       // a launched child's link closed or went silent
// 73: its sandbox trapped a syscall (kExitSandboxed, sandbox_death.h)

}  // namespace procxy::detail
