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

#include "parent/link.h"

namespace procxy::detail {

// Throws SpawnError unless `name` can name a shared child: 1 to 64 of
// [A-Za-z0-9._-], not starting with '.'.
void check_shared_name(std::string_view name);

// Connects to the shared child recipe.shared_name, starting it when none
// runs. Throws SpawnError when it cannot within recipe.options.timeout, or
// when the child refuses this process (another interface, another user).
Link attach_child(const ChildRecipe& recipe);

}  // namespace procxy::detail
