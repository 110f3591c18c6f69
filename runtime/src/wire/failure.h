#pragma once

// Failures that cross from child to parent: captured in the child as a
// wire::Failure, turned back into the exceptions of SPEC §3 in the parent.

#include <capnp/message.h>
#include <sys/types.h>

#include <exception>
#include <string>
#include <string_view>

#include "procxy/detail/generated_support.h"
#include "wire/protocol.capnp.h"

namespace procxy::detail {

// Child side. Fills `message` with a Failure of `kind` (not an exception).
void encode_failure(capnp::MessageBuilder& message, wire::Failure::Kind kind, std::string_view message_text);
// Child side. Fills `message` with the Failure of an exception the object
// threw (child/current_exception.h describes the one in flight).
void encode_exception(capnp::MessageBuilder& message, std::string_view type_name, std::string_view what,
                      std::string_view stack);

// Parent side: the exception a Failure stands for. `what` names the operation
// ("demo::Calculator::add"); a failure while starting becomes a SpawnError.
enum class FailureContext { kStart, kCall };
std::exception_ptr to_exception(Words failure, FailureContext context, const std::string& what, pid_t pid);

}  // namespace procxy::detail
