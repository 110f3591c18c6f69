// The received side of generated code's messages: Reply, and the size check
// of blobs and lists (detail/message.h, detail/marshal.h).

#include <string>

#include "procxy/detail/generated_support.h"
#include "side.h"
#include "wire/message.h"

namespace procxy::detail {

void wire_size_exceeded(std::size_t size, const char* what) {
  throw Error(std::string("procxy: ") + side_name() + ": a " + what + " of " + std::to_string(size) +
              " elements is larger than Cap'n Proto's limit of " + std::to_string(kMaxWireElements) +
              " per blob or list; split it across calls, or pass large data through a file");
}

Reply::Reply(Words words) : words_(std::move(words)), reader_(words_.asPtr(), reader_options(words_.size())) {}

void Reply::malformed(const char* what, const char* why) {
  if (in_child()) {
    throw ProtocolError(std::string("procxy: ") + side_name() + ": a message for " + what + " is malformed: " + why);
  }
  throw ProtocolError("procxy: parent: the reply to " + std::string(what) + " is malformed: " + why +
                      "; parent and child must be built from the same procxy and header");
}

}  // namespace procxy::detail
