#pragma once

// The processes a child serves, its peers: the parent of a private child, or
// every client connected to a shared one. Events go to each peer that
// subscribed to them, from whichever thread the object emits on.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "transport/channel.h"

namespace procxy::detail {

// One connection to a parent: its channel and the events it listens to.
class Peer {
 public:
  explicit Peer(int fd) : channel_(fd) {}
  explicit Peer(Channel::Streams streams) : channel_(streams) {}
  Channel& channel() { return channel_; }
  void subscribe(std::uint16_t ordinal);
  bool listens(std::uint16_t ordinal) const;

 private:
  Channel channel_;
  std::array<std::atomic<std::uint64_t>, (1 << 16) / 64> subscribed_{};  // one bit per event ordinal
};

// Events go to every added peer that subscribed to them.
void add_peer(std::shared_ptr<Peer> peer);
void remove_peer(const Peer* peer);

// The object events may come from, once it exists; nullptr while it is
// destroyed, so that what it emits then goes nowhere.
void set_served_object(const void* object);

}  // namespace procxy::detail
