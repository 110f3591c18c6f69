#include "transport/payload_pool.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

#include "mutex.h"

namespace procxy::detail {
namespace {

constexpr unsigned kSmallestShift = 9;  // 512 words: 4 KiB
static_assert((std::size_t{1} << kSmallestShift) * sizeof(capnp::word) == kSmallestPayloadBytes);
constexpr unsigned kLargestShift = 21;  // 2 Mi words: 16 MiB
constexpr std::size_t kSizes = kLargestShift - kSmallestShift + 1;

class Pool final : public kj::ArrayDisposer {
 public:
  kj::Array<capnp::word> take(std::size_t words) {
    if (words == 0) return nullptr;
    unsigned shift = std::max<unsigned>(kSmallestShift, std::bit_width(words - 1));
    if (shift > kLargestShift) return kj::heapArray<capnp::word>(words);
    capnp::word* buffer = nullptr;
    {
      MutexLock lock(mutex_);
      std::vector<capnp::word*>& free = free_[shift - kSmallestShift];
      if (!free.empty()) {
        buffer = free.back();
        free.pop_back();
      }
    }
    if (!buffer) {
      // One word in front of the buffer holds its size class.
      auto* memory = static_cast<capnp::word*>(std::malloc(((std::size_t{1} << shift) + 1) * sizeof(capnp::word)));
      if (!memory) throw std::bad_alloc();
      *reinterpret_cast<std::size_t*>(memory) = shift;
      buffer = memory + 1;
    }
    return kj::Array<capnp::word>(buffer, words, *this);
  }

 private:
  void disposeImpl(void* first, std::size_t, std::size_t, std::size_t, void (*)(void*)) const override {
    auto* buffer = static_cast<capnp::word*>(first);
    std::size_t shift = *reinterpret_cast<const std::size_t*>(buffer - 1);
    {
      MutexLock lock(mutex_);
      std::vector<capnp::word*>& free = free_[shift - kSmallestShift];
      if (free.size() < kKeptPerSize) {
        free.push_back(buffer);
        return;
      }
    }
    std::free(buffer - 1);
  }

  // Taken with other mutexes held (a payload may be freed anywhere, e.g.
  // under Connection::mutex_); nothing else is taken while it is held.
  mutable Mutex mutex_;
  // The free lists, by size class. (The reference to a list is taken under
  // the mutex: the analysis counts indexing the array as reading it.)
  mutable std::array<std::vector<capnp::word*>, kSizes> free_ PROCXY_GUARDED_BY(mutex_);
};

}  // namespace

kj::Array<capnp::word> take_payload(std::size_t words) {
  static Pool* pool = new Pool();  // never destroyed: payloads may outlive static destruction
  return pool->take(words);
}

}  // namespace procxy::detail
