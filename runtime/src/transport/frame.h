#pragma once

// The frame: a fixed 16-byte header followed by a Cap'n Proto message in its
// standard flat encoding (segment table, then segments). The header carries
// what routing needs, so no message is decoded to find its destination.

#include <cstddef>
#include <cstdint>
#include <string>

#include "procxy/errors.h"

namespace procxy::detail {

enum class FrameKind : std::uint16_t {
  kSelect = 1,       // parent -> child: class name, interface hash (wire::Select)
  kConstruct = 2,    // parent -> child: constructor ordinal + params
  kReady = 3,        // child -> parent: the object exists (wire::Ready)
  kCall = 4,         // parent -> child: method ordinal + params
  kResult = 5,       // child -> parent: results of request `id`
  kError = 6,        // child -> parent: wire::Failure for request `id` (0: the start)
  kShutdown = 7,     // parent -> child: destroy the object and exit
  kEvent = 8,        // child -> parent: event `ordinal` and its params (id 0)
  kSubscribe = 9,    // parent -> child: send event `ordinal` from now on (no payload); id != 0: confirm
  kCancel = 10,      // parent -> child: no caller waits for request `id` any more (no payload)
  kSubscribed = 11,  // child -> parent: Subscribe `id` is in effect (no payload)
  kHeartbeat = 12,   // either way, over a launcher: still here (no payload; Options::heartbeat)
  kSandboxed = 13,   // child -> parent: its sandbox kills it for syscall `id` (arch << 32 | number; no payload)
};

// Which side sends a kind, in which part of a conversation, and whether a
// Cap'n Proto message comes with it: the one place these rules live. The
// receiver of a frame checks it against them (expect(), and
// validate_message() for the payload) before anything else looks at it.
enum class Sender : std::uint8_t { kParent, kChild, kEither };
enum class Phase : std::uint8_t { kStart, kServing };

struct FrameRule {
  FrameKind kind;
  const char* name;  // "Call", for messages
  Sender sender;     // kEither: both send it
  bool at_start;     // may come while the child starts (before Ready)
  bool serving;      // may come once it serves
  bool message;      // carries a Cap'n Proto message (else an empty payload)
};

// The rule of `kind`, or nullptr for a kind this procxy does not know.
const FrameRule* frame_rule(FrameKind kind);

// "4 (Call)", for messages.
std::string describe(FrameKind kind);

// Throws ProtocolError naming `where` (the receiver) and `from` ("child
// 4242", "the parent") unless a frame of `kind` may come from `sender` in
// `phase`.
void expect(FrameKind kind, Sender sender, Phase phase, const char* where, const std::string& from);

// Set in a header's kind when the payload is in shared memory and the socket
// carries only its SharedDescriptor (transport/shared_payloads.h). The reader
// clears it: no layer above the channel sees it.
inline constexpr std::uint16_t kSharedPayloadBit = 0x8000;
inline constexpr std::uint32_t kSharedDescriptorBytes = 16;

struct FrameHeader {
  std::uint32_t size = 0;  // payload bytes, a multiple of 8
  FrameKind kind = FrameKind::kCall;
  std::uint16_t ordinal = 0;  // constructor or method form
  std::uint64_t id = 0;       // request id, echoed in the reply
};
static_assert(sizeof(FrameHeader) == 16);

inline constexpr std::size_t kFrameHeaderSize = sizeof(FrameHeader);
// Larger payloads are refused as a protocol error rather than allocated.
inline constexpr std::uint32_t kMaxFrameSize = 1u << 30;

// Throws ProtocolError naming `where` when the header cannot be valid.
void validate(const FrameHeader& header, const char* where);

// The error for a payload of `size` bytes over kMaxFrameSize; `what` says
// whose data it is ("procxy: parent: the arguments of demo::C::f").
Error frame_too_large(std::size_t size, const std::string& what);

// The payload size of a message with these segment sizes (in words),
// segment table included.
std::size_t payload_bytes(std::size_t segment_count, std::size_t total_words);

}  // namespace procxy::detail
