#pragma once

// Heartbeats on a launcher's link (Options::heartbeat): both sides send one
// every interval and hold the link lost when nothing came for
// kHeartbeatsMissed of them. The one rule, for the parent and the child.

#include <algorithm>
#include <chrono>

namespace procxy::detail {

inline constexpr int kHeartbeatsMissed = 3;

// How long a link may be silent before it is lost; zero: never (no heartbeats).
inline std::chrono::milliseconds silence_limit(std::chrono::milliseconds heartbeat) {
  return heartbeat * kHeartbeatsMissed;
}

// How long the bytes of one frame may pause on such a link (Channel::allow_stalls_of):
// a network pauses where a local socket never does, and heartbeats cannot
// pass a frame that is being written.
inline std::chrono::milliseconds link_stall_limit(std::chrono::milliseconds heartbeat) {
  return std::max<std::chrono::milliseconds>(std::chrono::seconds(5), silence_limit(heartbeat));
}

}  // namespace procxy::detail
