#include "child/peers.h"

#include <mutex>
#include <string>
#include <vector>

#include "mutex.h"
#include "procxy/detail/generated_support.h"
#include "side.h"

namespace procxy::detail {
namespace {

// The served object, for events: set once the object exists.
std::atomic<const void*> g_object{nullptr};
// The events some peer listens to, by ordinal: the others are not even encoded.
std::atomic<bool> g_subscribed[1 << 16];

// The peers events go to. Emitting takes a snapshot: no allocation, and a
// peer that leaves meanwhile stays valid until the write is done.
class Peers {
 public:
  using List = std::vector<std::shared_ptr<Peer>>;
  std::shared_ptr<const List> snapshot() const PROCXY_EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    return list_;
  }
  void add(std::shared_ptr<Peer> peer) PROCXY_EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    auto list = std::make_shared<List>(*list_);
    list->push_back(std::move(peer));
    list_ = std::move(list);
  }
  void remove(const Peer* peer) PROCXY_EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    auto list = std::make_shared<List>(*list_);
    std::erase_if(*list, [&](const auto& p) { return p.get() == peer; });
    list_ = std::move(list);
  }

 private:
  // Nothing else is taken while it is held; emit() writes to the peers'
  // channels with the snapshot, not the mutex.
  mutable Mutex mutex_;
  // Replaced, never changed: a snapshot stays as it was taken.
  std::shared_ptr<const List> list_ PROCXY_GUARDED_BY(mutex_) = std::make_shared<List>();
};

Peers& peers() {
  static Peers* peers = new Peers();  // used by object threads until _exit
  return *peers;
}

}  // namespace

void Peer::subscribe(std::uint16_t ordinal) {
  subscribed_[ordinal / 64].fetch_or(std::uint64_t{1} << (ordinal % 64), std::memory_order_relaxed);
  g_subscribed[ordinal].store(true, std::memory_order_relaxed);
}

bool Peer::listens(std::uint16_t ordinal) const {
  return (subscribed_[ordinal / 64].load(std::memory_order_relaxed) >> (ordinal % 64)) & 1;
}

void add_peer(std::shared_ptr<Peer> peer) { peers().add(std::move(peer)); }
void remove_peer(const Peer* peer) { peers().remove(peer); }

void set_served_object(const void* object) { g_object.store(object, std::memory_order_release); }

bool emitting(const void* object, const EventInfo& event) {
  return object != nullptr && g_object.load(std::memory_order_acquire) == object &&
         g_subscribed[event.ordinal].load(std::memory_order_relaxed);
}

void emit(const EventInfo& event, capnp::MessageBuilder& params) {
  auto segments = params.getSegmentsForOutput();
  if (std::size_t size = Channel::payload_bytes(segments); size > kMaxFrameSize) {
    throw frame_too_large(size, std::string("procxy: ") + side_name() + ": the parameters of event " + event.name);
  }
  // Held for the loop: a temporary in the range expression would be
  // destroyed before the loop runs (until C++23).
  std::shared_ptr<const Peers::List> listeners = peers().snapshot();
  for (const auto& peer : *listeners) {
    // A peer that is gone hears nothing.
    if (peer->listens(event.ordinal)) peer->channel().write(FrameKind::kEvent, event.ordinal, 0, segments);
  }
}

}  // namespace procxy::detail
