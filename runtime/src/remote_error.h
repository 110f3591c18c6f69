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

// "St13runtime_error" -> "std::runtime_error"; the name itself if it cannot.
std::string demangle(const char* name);

// Child side. Fills `message` with a Failure.
void encode_failure(capnp::MessageBuilder& message, wire::Failure::Kind kind, std::string_view message_text);
// Child side, inside a catch block: describes the exception in flight.
void encode_current_exception(capnp::MessageBuilder& message);

// Parent side: the exception a Failure stands for. `what` names the operation
// ("demo::Calculator::add"); a failure while starting becomes a SpawnError.
enum class FailureContext { kStart, kCall };
std::exception_ptr to_exception(Words failure, FailureContext context, const std::string& what, pid_t pid);

}  // namespace procxy::detail
