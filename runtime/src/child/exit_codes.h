#pragma once

// Exit codes of a child that gives up; the parent reports them.

namespace procxy::detail {

inline constexpr int kExitStartFailed = 1;
inline constexpr int kExitProtocol = 70;

}  // namespace procxy::detail
