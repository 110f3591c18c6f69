#include "wire/message.h"

#include <capnp/any.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <string>

namespace procxy::detail {
namespace {

// Lists of zero-sized elements (empty aggregates, std::tuple<>) cost no words
// but are charged one each by Cap'n Proto's traversal limit: allow this many
// beyond the message's size. It bounds what a tiny message can make the
// receiver allocate to 64 Ki elements.
constexpr std::uint64_t kTraversalSlackWords = 1u << 16;

}  // namespace

capnp::ReaderOptions reader_options(std::size_t words) {
  capnp::ReaderOptions options;
  options.traversalLimitInWords = words + kTraversalSlackWords;
  return options;
}

void validate_message(const Frame& frame, const char* where) {
  auto fail = [&](const std::string& why) {
    throw ProtocolError(std::string("procxy: ") + where + ": received a malformed message (frame kind " +
                        describe(frame.header.kind) + ", ordinal " + std::to_string(frame.header.ordinal) + "): " +
                        why + "; the connection is closed (is the other side a procxy program of the same version?)");
  };
  const FrameRule* rule = frame_rule(frame.header.kind);
  if (!rule) fail("the frame kind is unknown");
  if (!rule->message) {
    if (frame.payload.size() != 0) fail("this kind of frame has no payload");
    return;
  }
  if (frame.payload.size() == 0) fail("the payload is empty");
  capnp::ReaderOptions options = reader_options(frame.payload.size());
  KJ_IF_MAYBE (exception, kj::runCatchingExceptions([&] {
                 capnp::FlatArrayMessageReader reader(frame.payload.asPtr(), options);
                 if (reader.getEnd() != frame.payload.end()) {
                   KJ_FAIL_REQUIRE("bytes follow the message's last segment");
                 }
                 reader.getRoot<capnp::AnyPointer>().targetSize();
               })) {
    fail(exception->getDescription().cStr());
  }
}

}  // namespace procxy::detail
