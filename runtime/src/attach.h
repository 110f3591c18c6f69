#pragma once

// Shared children (attach()): the user's runtime directory, the start lock,
// and finding, or starting, the child of a name.
//
// Connect-or-start: connect to <dir>/<name>.sock; when nothing answers, take
// the start lock <dir>/<name>.lock (an flock, which the kernel releases when
// its holder dies), look again, replace a stale socket file, and start the
// child detached. The child inherits the lock and closes it once it listens,
// so a starter that dies mid-start neither blocks the others nor lets a
// second child start. Processes that find the lock held poll until the child
// answers.

#include <chrono>
#include <string>
#include <string_view>

#include "dispatch/client.h"

namespace procxy::detail {

struct SharedPaths {
  std::string directory;  // the user's runtime directory: owned by them, mode 0700
  std::string socket;     // <name>.sock: where the child listens
  std::string lock;       // <name>.lock: held while a child starts
  std::string log;        // <name>.log: the child's stderr
};

// Throws SpawnError unless `name` can name a shared child: 1 to 64 of
// [A-Za-z0-9._-], not starting with '.'.
void check_shared_name(std::string_view name);

// Connects to the shared child recipe.shared_name, starting it when none
// runs. Throws SpawnError when it cannot within recipe.options.timeout, or
// when the child refuses this process (another interface, another user).
Link attach_child(const ChildRecipe& recipe);

// start_child.cpp: the class selection, the first frame on any channel to a
// child. `shared`: the child is to listen there (sent to a new shared child
// only; a client introducing itself to a running one sends none).
void write_select(Channel& channel, const ChildRecipe& recipe, const SharedPaths* shared);
// Sends the class selection and the constructor call on a new child's channel
// and waits until the object exists (for a shared child: until it listens on
// shared->socket).
void construct(Channel& channel, ChildProcess& process, const ChildRecipe& recipe, const std::string& what,
               Channel::Clock::time_point deadline, const SharedPaths* shared);
Channel::Clock::time_point start_deadline(const Options& options);

}  // namespace procxy::detail
