#include "side.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace procxy::detail {
namespace {

std::atomic<Side> g_side{Side::kParent};
// Written by become(), while the process has one thread, before anything
// reads it as a child's name.
char g_name[32] = "parent";

}  // namespace

Side side() { return g_side.load(std::memory_order_acquire); }

void become(Side side) {
  const char* role = side == Side::kSharedChild ? "shared child" : side == Side::kChild ? "child" : nullptr;
  if (role) {
    std::snprintf(g_name, sizeof g_name, "%s %d", role, static_cast<int>(::getpid()));
  } else {
    std::snprintf(g_name, sizeof g_name, "parent");
  }
  g_side.store(side, std::memory_order_release);
}

bool in_child() { return side() != Side::kParent; }

const char* side_name() {
  side();  // orders the read of g_name after become()'s write
  return g_name;
}

}  // namespace procxy::detail
