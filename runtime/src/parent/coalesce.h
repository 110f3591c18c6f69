#pragma once

// What query coalescing and PROCXY_CACHE share: the key of a query (its
// method form and its serialized arguments) and the per-proxy result cache.
// Neither is thread-safe; the connection guards them with its mutex.

#include <capnp/message.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>

#include "procxy/detail/generated_support.h"

namespace procxy::detail {

// The method form's ordinal followed by the arguments' Cap'n Proto encoding.
// Equal keys mean equal arguments; equal arguments may still encode to
// different keys (two equal unordered_maps iterated in different orders),
// which only costs a shared request.
std::string query_key(const MethodInfo& method, capnp::MessageBuilder& params);

// A copy of a message's words (capnp::word cannot be copied one by one under clang).
Words copy_of(const Words& words);

// Successful results of PROCXY_CACHE methods, each kept for its method's
// time to live. Bounded: at most kMaxEntries results and kMaxBytes bytes;
// storing beyond either evicts the least recently used results first, and a
// result larger than kMaxBytes / 4 is never kept.
class ResultCache {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kMaxEntries = 256;
  static constexpr std::size_t kMaxBytes = 16u << 20;

  // A copy of the result stored under `key`, if it has not expired.
  std::optional<Words> find(const std::string& key, Clock::time_point now);
  void store(const std::string& key, const Words& result, std::chrono::milliseconds ttl, Clock::time_point now);
  void clear();

  std::size_t size() const { return entries_.size(); }
  std::size_t bytes() const { return bytes_; }

 private:
  struct Entry {
    std::string key;
    Words result;
    Clock::time_point expires;
  };
  using Order = std::list<Entry>;  // most recently used first

  void erase(Order::iterator it);

  Order order_;
  std::unordered_map<std::string, Order::iterator> entries_;
  std::size_t bytes_ = 0;
};

}  // namespace procxy::detail
