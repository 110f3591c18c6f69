#pragma once

// What a connection is made of: how to start its child, and the child it
// talks to now. A restart replaces the link through the start function the
// connection was handed (services/start.cpp's), so the parent's side never
// calls up into the layer that composes it.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "process/child_handle.h"
#include "procxy/detail/generated_support.h"
#include "transport/channel.h"

namespace procxy::detail {

// How to start (and restart) the child of a connection.
struct ChildRecipe {
  Options options;
  std::string class_name;
  std::uint64_t interface_hash = 0;
  Construction construction;
  std::string shared_name;  // attach(): the shared child's name; empty for a private child
};

// One running child and the channel to it.
struct Link {
  std::unique_ptr<Channel> channel;
  std::shared_ptr<ChildHandle> process;  // with Options::launcher, the launcher's
  pid_t remote_pid = 0;                  // the child's pid on its machine
};

// Starts a child as the recipe says and constructs its object. Throws
// SpawnError (or ProtocolError) with no child of ours left behind.
using StartFunction = std::function<Link(const ChildRecipe&)>;

}  // namespace procxy::detail
