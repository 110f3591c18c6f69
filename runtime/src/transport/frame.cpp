#include "transport/frame.h"

#include <string>

#include "procxy/errors.h"

namespace procxy::detail {

void validate(const FrameHeader& header, const char* where) {
  auto kind = static_cast<std::uint16_t>(static_cast<std::uint16_t>(header.kind) & ~kSharedPayloadBit);
  if (kind < static_cast<std::uint16_t>(FrameKind::kSelect) ||
      kind > static_cast<std::uint16_t>(FrameKind::kSubscribed)) {
    throw ProtocolError(std::string("procxy: ") + where + ": received a frame of unknown kind " + std::to_string(kind) +
                        "; both sides must be built from the same procxy version");
  }
  if (header.size % 8 != 0 || header.size > kMaxFrameSize) {
    throw ProtocolError(std::string("procxy: ") + where + ": received a frame with invalid payload size " +
                        std::to_string(header.size) + " (must be a multiple of 8 and at most " +
                        std::to_string(kMaxFrameSize) + ")");
  }
  if ((static_cast<std::uint16_t>(header.kind) & kSharedPayloadBit) && header.size != kSharedDescriptorBytes) {
    throw ProtocolError(std::string("procxy: ") + where + ": received a frame with a payload in shared memory whose " +
                        "descriptor has " + std::to_string(header.size) + " bytes instead of " +
                        std::to_string(kSharedDescriptorBytes) +
                        "; both sides must be built from the same procxy version");
  }
}

Error frame_too_large(std::size_t size, const std::string& what) {
  return Error(what + " encode to " + std::to_string(size) + " bytes, more than procxy's frame limit of " +
               std::to_string(kMaxFrameSize) + " bytes; pass less data per call, or pass large data through a file");
}

std::size_t payload_bytes(std::size_t segment_count, std::size_t total_words) {
  if (segment_count == 0) return 0;
  return ((segment_count + 2) / 2 + total_words) * 8;
}

}  // namespace procxy::detail
