#pragma once

// A shared child (attach()): it listens on a socket in the user's runtime
// directory and serves every client of the same user that connects, until
// none has been connected for Options::idle_exit.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "child/calls.h"
#include "wire/handshake.h"

namespace procxy::detail {

struct ClassEntry;

struct Listener {
  int fd;
  ino_t inode;  // of the socket file: removed on exit only if still this one
};

// Binds and listens on setup.socket, replacing a stale socket file there.
// Throws procxy::Error when it cannot.
Listener listen_shared(const SharedSetup& setup);

// Serves every client that connects to `listener`, with `concurrency` calls
// on the object at once across all of them. `starter` (the process that
// started this child) counts as a client until it closes its channel; only
// clients that ask for the same `sandbox` are served. Returns
// once the child was idle for setup.idle_exit and its socket is gone.
void serve_shared(const Listener& listener, std::shared_ptr<Peer> starter, const ClassEntry& entry, void* object,
                  unsigned concurrency, const SharedSetup& setup, const std::optional<SandboxSetup>& sandbox);

}  // namespace procxy::detail
