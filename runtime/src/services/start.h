#pragma once

// Starting a child and opening the connection to it, for spawn() and
// attach() (services/start.cpp) and for the children of a pool
// (services/pool.cpp).

#include <memory>

#include "parent/connection.h"
#include "parent/link.h"

namespace procxy::detail {

// Starts (or, for attach(), finds) the child `recipe` describes, constructs
// its object and opens the connection to it. Throws SpawnError.
std::shared_ptr<Connection> open_connection(ChildRecipe recipe);

// A recipe for one more child like `recipe`'s: the constructor arguments are
// copied.
ChildRecipe copy_of(const ChildRecipe& recipe);

}  // namespace procxy::detail
