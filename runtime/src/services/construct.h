#pragma once

// The parent's side of starting a child it has just started: the handshake
// of wire/handshake.h over the new channel, with the process at hand to
// kill on a timeout and to ask how it ended.

#include <string>

#include "parent/link.h"
#include "wire/handshake.h"

namespace procxy::detail {

// Where a shared child lives: in the user's runtime directory.
struct SharedPaths {
  std::string directory;  // owned by the user, mode 0700
  std::string socket;     // <name>.sock: where the child listens
  std::string lock;       // <name>.lock: held while a child starts
  std::string log;        // <name>.log: the child's stderr
  std::string failed;     // <name>.failed: why the last start failed, for those who waited on it
};

// When a start begun now must be over.
Channel::Clock::time_point start_deadline(const Options& options);

// The Select for `recipe`. `shared`: the child is to listen there (sent to a
// new shared child only; a client introducing itself to a running one sends
// none).
Selection selection_of(const ChildRecipe& recipe, const SharedPaths* shared);

// Sends the class selection and the constructor call on a new child's channel
// and waits until the object exists (for a shared child: until it listens on
// shared->socket). Returns the child's pid on its machine. Throws SpawnError
// or ProtocolError, having killed the child when it does not answer in time.
// `what` names the child in messages.
pid_t construct(Channel& channel, ChildHandle& process, const ChildRecipe& recipe, const std::string& what,
                Channel::Clock::time_point deadline, const SharedPaths* shared);

}  // namespace procxy::detail
