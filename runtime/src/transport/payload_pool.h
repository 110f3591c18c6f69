#pragma once

// Memory for the payloads of received frames, recycled. A payload goes back
// to the pool when its reader is done with it, and a later frame of about the
// same size reuses it: receiving allocates nothing once the pool holds the
// sizes a connection sees, and never writes into fresh memory (a page fault
// per 4 KiB, dearer than the copy itself on a VM).
//
// Buffers come in power-of-two sizes from 4 KiB to 16 MiB; the pool keeps at
// most kKeptPerSize free ones of each size. Larger payloads are allocated
// and freed as they come. Thread-safe.

#include <capnp/common.h>
#include <kj/array.h>

#include <cstddef>

namespace procxy::detail {

inline constexpr std::size_t kKeptPerSize = 2;
// The smallest buffer: a payload of fewer bytes still takes this many.
inline constexpr std::size_t kSmallestPayloadBytes = 4096;

// An uninitialized array of `words` words.
kj::Array<capnp::word> take_payload(std::size_t words);

}  // namespace procxy::detail
