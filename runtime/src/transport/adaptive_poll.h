#pragma once

// Whether a blocking read polls its socket for a moment before it sleeps.
//
// In a synchronous round trip each process waits while the other works. A
// process that sleeps lets its vCPU go idle, and on the VMs we run on (guest
// halt polling off) waking an idle vCPU is a trip through the host: about
// 20 µs per hop, more than the rest of the round trip. Polling for up to kWindow
// keeps the vCPU awake when the answer is about to come, as the kernel's own
// haltpoll does; it costs less CPU per call than the wake-ups it saves
// (docs/performance.md). To keep a reader whose data does not come that soon
// from burning kWindow on every wait, polling rests after kMissesToRest
// windows in a row that ended empty, and then polls again only every
// kProbeEvery-th wait, until one poll finds data.
//
// Not thread-safe: it belongs to the channel's one reader.

#include <chrono>

namespace procxy::detail {

class AdaptivePoll {
 public:
  static constexpr std::chrono::microseconds kWindow{20};
  static constexpr int kMissesToRest = 2;
  static constexpr int kProbeEvery = 32;

  // Whether the coming wait polls for up to kWindow before it blocks.
  bool should_poll() {
    if (misses_ < kMissesToRest) return true;
    if (++rested_waits_ < kProbeEvery) return false;
    rested_waits_ = 0;
    return true;
  }

  // A poll found data.
  void hit() {
    misses_ = 0;
    rested_waits_ = 0;
  }

  // A poll's window ended with no data; the reader goes on to block.
  void miss() {
    if (misses_ < kMissesToRest) ++misses_;
  }

 private:
  int misses_ = 0;        // windows in a row that ended empty, up to kMissesToRest
  int rested_waits_ = 0;  // waits since polling rested or last probed
};

}  // namespace procxy::detail
