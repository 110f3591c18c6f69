#pragma once

// The clients a child serves: one parent for a private child, every
// connected process for a shared one. Events go to each client that
// subscribed to them; calls from all clients pass one gate.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <semaphore>

#include "transport/channel.h"

namespace procxy::detail {

struct ClassEntry;

// One connection to a parent: its channel and the events it listens to.
class Client {
 public:
  explicit Client(int fd) : channel_(fd) {}
  Channel& channel() { return channel_; }
  void subscribe(std::uint16_t ordinal);
  bool listens(std::uint16_t ordinal) const;

 private:
  Channel channel_;
  std::array<std::atomic<std::uint64_t>, (1 << 16) / 64> subscribed_{};  // one bit per event ordinal
};

// Limits the calls running on the object at once, across all clients.
using CallGate = std::counting_semaphore<1 << 16>;

// Events go to every registered client that subscribed to them.
void add_client(std::shared_ptr<Client> client);
void remove_client(const Client* client);

// Serves `client`'s calls on the object until it sends Shutdown or goes away:
// one reading thread, `workers` threads running calls, each passing `gate`.
void serve_client(Client& client, const ClassEntry& entry, void* object, unsigned workers, CallGate& gate);

}  // namespace procxy::detail
