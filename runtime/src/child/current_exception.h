#pragma once

// The exception in flight, as the Failure the parent rethrows (SPEC §3):
// its type, its message and the stack where it was thrown.

#include <capnp/message.h>

namespace procxy::detail {

// Call inside a catch block.
void encode_current_exception(capnp::MessageBuilder& message);

}  // namespace procxy::detail
