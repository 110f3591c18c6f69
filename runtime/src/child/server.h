#pragma once

// The child's side: take the parent's selection, construct the object, then
// serve its calls. A private child serves one parent on its channel; a
// shared child (attach()) serves every client that connects to its socket.

#include "transport/channel.h"

namespace procxy::detail {

// Reads the class selection and the constructor call from `fd`, constructs
// the object, then serves calls until the parent (for a shared child: the
// last client, after Options::idle_exit) lets go. Exits the process; never
// returns.
[[noreturn]] void serve(int fd);
// The same for a child started through Options::launcher, on its stdin and
// stdout (`streams`): it sets up on itself what its start message asks
// (environment, directory, limits) and watches its link (child/link_watch.h).
[[noreturn]] void serve_launched(Channel::Streams streams);

}  // namespace procxy::detail
