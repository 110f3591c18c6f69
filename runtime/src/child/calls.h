#pragma once

// Serving one peer's calls: reading its frames, running each call on the
// object and writing the reply.

#include <semaphore>
#include <thread>
#include <vector>

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
// the thread of run() reads, `workers` threads run calls, each passing `gate`.
class PeerServer {
 public:
  // Starts the workers. Throws Error when a thread cannot be started (none
  // is left running then).
  PeerServer(Peer& peer, const ClassEntry& entry, void* object, unsigned workers, CallGate& gate);
  ~PeerServer();
  PeerServer(const PeerServer&) = delete;
  PeerServer& operator=(const PeerServer&) = delete;

  void run();

 private:
  void stop();  // closes the queue and joins the workers

  Peer& peer_;
  CallQueue calls_;
  std::vector<std::thread> workers_;
};

// PeerServer(...).run().
void serve_peer(Peer& peer, const ClassEntry& entry, void* object, unsigned workers, CallGate& gate);

}  // namespace procxy::detail
