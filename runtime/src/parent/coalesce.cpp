#include "parent/coalesce.h"

#include <cstring>

namespace procxy::detail {

std::string query_key(const MethodInfo& method, capnp::MessageBuilder& params) {
  auto segments = params.getSegmentsForOutput();
  std::size_t size = sizeof method.ordinal;
  for (const auto& segment : segments) size += sizeof(std::uint32_t) + segment.asBytes().size();
  std::string key;
  key.reserve(size);
  key.append(reinterpret_cast<const char*>(&method.ordinal), sizeof method.ordinal);
  for (const auto& segment : segments) {
    // The segment sizes keep keys of differently split messages apart.
    auto words = static_cast<std::uint32_t>(segment.size());
    key.append(reinterpret_cast<const char*>(&words), sizeof words);
    key.append(reinterpret_cast<const char*>(segment.asBytes().begin()), segment.asBytes().size());
  }
  return key;
}

Words copy_of(const Words& words) {
  auto copy = kj::heapArray<capnp::word>(words.size());
  std::memcpy(copy.asBytes().begin(), words.asBytes().begin(), words.asBytes().size());
  return copy;
}

std::optional<Words> ResultCache::find(const std::string& key, Clock::time_point now) {
  auto found = entries_.find(key);
  if (found == entries_.end()) return std::nullopt;
  Order::iterator it = found->second;
  if (it->expires <= now) {
    erase(it);
    return std::nullopt;
  }
  order_.splice(order_.begin(), order_, it);
  return copy_of(it->result);
}

void ResultCache::store(const std::string& key, const Words& result, std::chrono::milliseconds ttl,
                        Clock::time_point now) {
  if (auto found = entries_.find(key); found != entries_.end()) erase(found->second);
  std::size_t size = result.size() * sizeof(capnp::word);
  if (size > kMaxBytes / 4 || ttl.count() <= 0) return;
  // Expired results go first, then the least recently used.
  for (auto it = order_.begin(); it != order_.end();) {
    auto next = std::next(it);
    if (it->expires <= now) erase(it);
    it = next;
  }
  while (!order_.empty() && (entries_.size() >= kMaxEntries || bytes_ + size > kMaxBytes)) {
    erase(std::prev(order_.end()));
  }
  order_.push_front(Entry{key, copy_of(result), now + ttl});
  entries_.emplace(key, order_.begin());
  bytes_ += size;
}

void ResultCache::clear() {
  order_.clear();
  entries_.clear();
  bytes_ = 0;
}

void ResultCache::erase(Order::iterator it) {
  bytes_ -= it->result.size() * sizeof(capnp::word);
  entries_.erase(it->key);
  order_.erase(it);
}

}  // namespace procxy::detail
