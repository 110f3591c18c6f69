#pragma once

// Options::sandbox in the child: engaged once the object exists, before the
// first call (docs/sandbox.md).

#include <optional>

#include "transport/channel.h"
#include "wire/handshake.h"

namespace procxy::detail {

// Confines this process to `setup`: no new privileges, Landlock for the
// paths (and TCP where the kernel has it), then the syscall filter, whose
// SIGSYS tells the parent on `report_to` (if any) which syscall killed
// the child.
// `shared`: a shared child's socket and lock, which it still uses. Throws
// procxy::Error naming the restriction this kernel cannot apply, unless
// setup.best_effort (then it is passed over and logged).
void engage_sandbox(const SandboxSetup& setup, const std::optional<SharedSetup>& shared, Channel* report_to);

}  // namespace procxy::detail
