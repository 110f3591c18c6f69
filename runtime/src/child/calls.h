#pragma once

// Serving one peer's calls: reading its frames, running each call on the
// object and writing the reply.

#include <semaphore>

#include "child/call_queue.h"
#include "child/peers.h"

namespace procxy::detail {

struct ClassEntry;

// Limits the calls running on the object at once, across all peers.
using CallGate = std::counting_semaphore<1 << 16>;

// Runs one call and writes its reply. False when the peer is gone.
bool run_call(Channel& channel, const ClassEntry& entry, void* object, Frame& frame);

// Reads frames until the next call, applying Subscribe and Cancel. False at
// Shutdown or when the peer is gone; a frame no parent sends ends a shared
// child's conversation with that peer, and a private child. `wake_fd` >= 0:
// also false once it is signalled (`woken` is then set).
bool next_call(Peer& peer, CallQueue& calls, Frame& frame, int wake_fd = -1, bool* woken = nullptr);

// Reads the frames that have arrived, without waiting: queues the calls and
// applies Subscribe and Cancel, so that a call cancelled while it waited in
// the socket is dropped before it starts. Stops while the queue has no room
// (CallQueue::has_room). False as next_call() says.
bool take_pending(Peer& peer, CallQueue& calls);

// Serves `peer`'s calls on the object until it sends Shutdown or goes away:
// this thread reads, `workers` threads run calls, each passing `gate`.
void serve_peer(Peer& peer, const ClassEntry& entry, void* object, unsigned workers, CallGate& gate);

}  // namespace procxy::detail
