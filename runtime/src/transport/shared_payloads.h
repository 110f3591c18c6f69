#pragma once

// Large payloads through shared memory. A frame whose payload is at least
// kSharedMinBytes is copied into a buffer both processes map (a sealed
// memfd), and the socket carries a 16-byte descriptor in its place: one copy
// instead of two through the kernel, and no socket buffer to fill and drain
// 200 KiB at a time, with a context switch for each.
//
// The sending end of a connection owns up to kSharedSlots buffers. A word in
// the page after a buffer's data says whether the receiver holds it: the
// sender sets it before it sends the descriptor, the receiver clears it once
// it has copied the payload out, and only then does the sender write into the
// buffer again. A payload that finds every buffer held or too small goes
// through the socket, as smaller payloads do. A buffer's fd travels once, with
// the first descriptor that names it (SCM_RIGHTS).
//
// The receiver copies the payload into private memory before anyone reads
// it. The peer can still write into a buffer it lent, whatever the held word
// says, and Cap'n Proto's reader reads a pointer again after bounds-checking
// it: a message decoded in place, rewritten meanwhile, could make it read
// outside the segment it checked. The seals on the memfd make sure no peer
// can shrink it under a mapping (which would be SIGBUS on the copy).

#include <capnp/common.h>
#include <kj/array.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

struct iovec;

#include "transport/frame.h"

namespace procxy::detail {

// Payloads from this size up go through shared memory: above the channel's
// read buffer, where the socket path needs a second recv() and its copies
// start to count.
inline constexpr std::size_t kSharedMinBytes = 64 * 1024;
// Buffers per direction of a connection: enough for every large payload of a
// few calls in flight, each waiting to be read.
inline constexpr std::uint32_t kSharedSlots = 8;

// What the socket carries in place of a payload in shared memory.
struct SharedDescriptor {
  std::uint32_t slot = 0;
  std::uint32_t bytes = 0;     // the payload's size
  std::uint32_t fresh = 0;     // 1: a new buffer for `slot`, whose fd comes with this frame
  std::uint32_t reserved = 0;  // 0
};
static_assert(sizeof(SharedDescriptor) == kSharedDescriptorBytes);

// The buffers of the sending end. Not thread-safe: the channel uses it under
// its write lock.
class SharedPayloadSender {
 public:
  SharedPayloadSender() = default;
  ~SharedPayloadSender();
  SharedPayloadSender(const SharedPayloadSender&) = delete;
  SharedPayloadSender& operator=(const SharedPayloadSender&) = delete;

  struct Placement {
    SharedDescriptor descriptor;
    char* data;  // room for descriptor.bytes
    int fd;      // a fresh buffer's memfd, to send and then close; -1 otherwise
  };

  // Room for a payload of `bytes` bytes in a buffer now marked held, or
  // nullopt when the payload must go through the socket.
  std::optional<Placement> place(std::size_t bytes);

 private:
  struct Slot {
    char* memory = nullptr;  // the whole mapping: the data, then the page of the held word
    std::size_t size = 0;
    std::size_t capacity() const;  // bytes of data
  };
  std::array<Slot, kSharedSlots> slots_;
};

// Copies `count` pieces, each a whole number of words, one after another into
// `out` (word-aligned), the buffer of a placement. The stores bypass the
// cache: the peer, likely on another core, reads the buffer next, and on
// these VMs writing lines the peer's cache holds (it read the buffer last
// time) made a 1 MiB round trip 3x slower than the socket.
void copy_to_shared(char* out, const iovec* pieces, std::size_t count);

// The buffers the peer lent to the receiving end. Not thread-safe: the
// channel's one reader uses it.
class SharedPayloadReceiver {
 public:
  SharedPayloadReceiver() = default;
  ~SharedPayloadReceiver();
  SharedPayloadReceiver(const SharedPayloadReceiver&) = delete;
  SharedPayloadReceiver& operator=(const SharedPayloadReceiver&) = delete;

  // Keeps a file descriptor that arrived with the socket's bytes, for the
  // fresh descriptor it came with. More than descriptors could claim are
  // closed, and the next fresh descriptor is refused.
  void add_fd(int fd);

  // A private copy of the payload `descriptor` describes; the buffer is
  // handed back to the peer before this returns. Throws ProtocolError naming
  // `where` for a descriptor that is not valid.
  kj::Array<capnp::word> take(const SharedDescriptor& descriptor, const char* where);

 private:
  // One buffer the peer lent, mapped: its data, then the page of the held word.
  struct Mapping {
    char* memory = nullptr;
    std::size_t size = 0;
  };
  std::deque<int> fds_;
  bool fds_dropped_ = false;
  std::array<Mapping, kSharedSlots> mappings_{};
};

}  // namespace procxy::detail
