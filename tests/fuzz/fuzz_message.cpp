// libFuzzer target: a child's whole decoding path for one call, minus the
// socket: message validation, then the generated stub of a class taking
// every kind of type (decode the params, call, encode the result).
// Input: two bytes of method form, then the message.

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>

#include "child/registry.h"
#include "sink.procxy.h"
#include "transport/channel.h"
#include "wire/message.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace procxy::detail;
  if (size < 2) return 0;
  static const ClassEntry* entry = find_class(ClassTraits<fuzz::Sink>::kName);
  static void* object = [] {
    Construction construction = ClassTraits<fuzz::Sink>::construct();  // also links the class's registration in
    Reply params(capnp::messageToFlatArray(*construction.message));
    return entry->construct(construction.ordinal, params);
  }();
  Frame frame;
  frame.header.kind = FrameKind::kCall;
  std::memcpy(&frame.header.ordinal, data, 2);
  std::size_t words = (size - 2) / sizeof(capnp::word);
  frame.payload = kj::heapArray<capnp::word>(words);
  std::memcpy(frame.payload.begin(), data + 2, words * sizeof(capnp::word));
  try {
    validate_message(frame, "fuzz");
    Reply params(std::move(frame.payload));
    procxy::detail::OutgoingMessage results;
    entry->dispatch(object, frame.header.ordinal, params, results);
  } catch (const std::exception&) {
    // ProtocolError or a Cap'n Proto decoding error: both clean.
  }
  return 0;
}
