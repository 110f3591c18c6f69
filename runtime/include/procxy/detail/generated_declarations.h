#pragma once

// What a generated *.procxy.h declares with, and nothing more: a file that
// includes a generated header sees procxy's public API and the standard
// headers below, never Cap'n Proto or kj. The definitions in the generated
// *.procxy.cpp use the full generated_support.h. Not for direct use by
// applications.

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string_view>
#include <type_traits>

#include "procxy/procxy.h"

namespace capnp {
class MallocMessageBuilder;
}  // namespace capnp

namespace procxy::detail {

class Reply;
struct EventInfo;

// Destroys a message built where Cap'n Proto is known (a generated
// .procxy.cpp) from where it may not be (the user's spawn<T>() call, which
// passes a Construction on): the code that builds the message says how.
struct MessageDeleter {
  void (*destroy)(capnp::MallocMessageBuilder* message) = nullptr;
  void operator()(capnp::MallocMessageBuilder* message) const { destroy(message); }
};

// The constructor form chosen by ClassTraits<T>::construct() and its arguments.
struct Construction {
  std::uint16_t ordinal;
  std::unique_ptr<capnp::MallocMessageBuilder, MessageDeleter> message;
};

// One handler of an event, behind the decoding of the event's parameters.
struct EventListener {
  const EventInfo* event;
  std::function<void(Reply& params)> deliver;
};

}  // namespace procxy::detail
