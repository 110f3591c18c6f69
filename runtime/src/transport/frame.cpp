#include "transport/frame.h"

#include <iterator>
#include <string>

#include "procxy/errors.h"

namespace procxy::detail {
namespace {

constexpr Sender kParent = Sender::kParent;
constexpr Sender kChild = Sender::kChild;
constexpr Sender kEither = Sender::kEither;

// In the order of FrameKind, from 1.
constexpr FrameRule kRules[] = {
    //                        name          sender   start  serving message
    {FrameKind::kSelect, "Select", kParent, true, false, true},
    {FrameKind::kConstruct, "Construct", kParent, true, false, true},
    {FrameKind::kReady, "Ready", kChild, true, false, true},
    {FrameKind::kCall, "Call", kParent, false, true, true},
    {FrameKind::kResult, "Result", kChild, false, true, true},
    {FrameKind::kError, "Error", kChild, true, true, true},
    {FrameKind::kShutdown, "Shutdown", kParent, false, true, false},
    {FrameKind::kEvent, "Event", kChild, false, true, true},
    {FrameKind::kSubscribe, "Subscribe", kParent, false, true, false},
    {FrameKind::kCancel, "Cancel", kParent, false, true, false},
    {FrameKind::kSubscribed, "Subscribed", kChild, false, true, false},
    {FrameKind::kHeartbeat, "Heartbeat", kEither, true, true, false},
    {FrameKind::kSandboxed, "Sandboxed", kChild, true, true, false},
};

constexpr bool in_order() {
  for (std::size_t i = 0; i < std::size(kRules); ++i) {
    if (static_cast<std::size_t>(kRules[i].kind) != i + 1) return false;
  }
  return true;
}
static_assert(in_order(), "kRules lists every FrameKind in order, from 1");

}  // namespace

const FrameRule* frame_rule(FrameKind kind) {
  auto index = static_cast<std::size_t>(kind);
  return index >= 1 && index <= std::size(kRules) ? &kRules[index - 1] : nullptr;
}

std::string describe(FrameKind kind) {
  const FrameRule* rule = frame_rule(kind);
  return std::to_string(static_cast<int>(kind)) + " (" + (rule ? rule->name : "unknown") + ")";
}

void expect(FrameKind kind, Sender sender, Phase phase, const char* where, const std::string& from) {
  const FrameRule* rule = frame_rule(kind);
  bool sent_by = rule && (rule->sender == sender || rule->sender == kEither);
  if (sent_by && (phase == Phase::kStart ? rule->at_start : rule->serving)) return;
  const char* who = sender == Sender::kParent ? "a parent" : "a child";
  const char* when = phase == Phase::kStart ? "while the child starts" : "once the child serves";
  throw ProtocolError(std::string("procxy: ") + where + ": " + from + " sent frame kind " + describe(kind) +
                      ", which " + who + " never sends " + when + "; the connection is closed");
}

void validate(const FrameHeader& header, const char* where) {
  auto kind = static_cast<std::uint16_t>(static_cast<std::uint16_t>(header.kind) & ~kSharedPayloadBit);
  if (!frame_rule(static_cast<FrameKind>(kind))) {
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
