#pragma once

// A stand-in child for code that writes the child's side of a channel
// itself: a real process (`sleep 60`), so that supervision works as usual,
// that never touches the channel. Kill it when done.

#include <memory>

#include "process/supervisor.h"

namespace wire_test {

// Throws std::runtime_error when the process cannot be started.
std::shared_ptr<procxy::detail::ChildProcess> stand_in();

}  // namespace wire_test
