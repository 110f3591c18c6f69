#pragma once

// A launched child's watch over its link to the parent (Options::launcher),
// which may cross machines: no parent-death signal reaches across ssh, so
// the child must see for itself that its parent is gone. One thread sends a
// heartbeat every Options::heartbeat, and ends the process when the link
// closed (the parent died, or the launcher or the network went) or has been
// silent for three heartbeats while nothing the parent sent waits unread.

#include <chrono>

#include "transport/channel.h"

namespace procxy::detail {

// Starts the watch over `channel` (the child's, which outlives it: the
// process ends by _exit). `heartbeat` zero: no heartbeats, only a closed
// link is noticed. Throws Error when the thread cannot be made.
void watch_link(Channel& channel, std::chrono::milliseconds heartbeat);

}  // namespace procxy::detail
