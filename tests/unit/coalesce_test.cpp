// The keys of queries and the bounded result cache of PROCXY_CACHE.

#include "parent/coalesce.h"

#include <catch2/catch.hpp>
#include <cstring>

#include "wire/protocol.capnp.h"

using namespace procxy::detail;
using Clock = ResultCache::Clock;
using std::chrono::milliseconds;

namespace {

constexpr MethodInfo kFirst{1, "demo::C::first", true, 0};
constexpr MethodInfo kSecond{2, "demo::C::second", true, 0};

std::string key_of(const MethodInfo& method, const std::string& text) {
  capnp::MallocMessageBuilder message;
  message.initRoot<procxy::wire::Select>().setClassName(text);
  return query_key(method, message);
}

Words words(std::size_t count) {
  auto result = kj::heapArray<capnp::word>(count);
  std::memset(result.asBytes().begin(), 7, result.asBytes().size());
  return result;
}

}  // namespace

TEST_CASE("query keys tell methods and arguments apart", "[coalesce]") {
  CHECK(key_of(kFirst, "a") == key_of(kFirst, "a"));
  CHECK(key_of(kFirst, "a") != key_of(kFirst, "b"));
  CHECK(key_of(kFirst, "a") != key_of(kSecond, "a"));
}

TEST_CASE("the cache serves a copy until the time to live ends", "[coalesce]") {
  ResultCache cache;
  Clock::time_point now = Clock::now();
  cache.store("k", words(3), milliseconds(100), now);
  auto hit = cache.find("k", now + milliseconds(99));
  REQUIRE(hit);
  CHECK(hit->size() == 3);
  CHECK(cache.find("other", now) == std::nullopt);
  CHECK(cache.find("k", now + milliseconds(100)) == std::nullopt);
  CHECK(cache.size() == 0);  // the expired entry went with the lookup
  CHECK(cache.bytes() == 0);
}

TEST_CASE("the cache is bounded in entries and bytes, evicting the least recently used", "[coalesce]") {
  ResultCache cache;
  Clock::time_point now = Clock::now();
  for (std::size_t i = 0; i < ResultCache::kMaxEntries + 5; ++i) {
    cache.store(std::to_string(i), words(1), milliseconds(1000), now);
    if (i == 5) CHECK(cache.find("0", now));  // "0" is now used after "1" to "5", the five evicted
  }
  CHECK(cache.size() == ResultCache::kMaxEntries);
  CHECK(cache.find("0", now));
  CHECK_FALSE(cache.find("1", now));
  CHECK(cache.find(std::to_string(ResultCache::kMaxEntries + 4), now));

  ResultCache big;
  std::size_t quarter = ResultCache::kMaxBytes / 4 / sizeof(capnp::word);
  for (int i = 0; i < 5; ++i) big.store(std::to_string(i), words(quarter), milliseconds(1000), now);
  CHECK(big.bytes() <= ResultCache::kMaxBytes);
  CHECK(big.size() == 4);
  CHECK_FALSE(big.find("0", now));
  big.store("huge", words(quarter + 1), milliseconds(1000), now);  // over a quarter: never kept
  CHECK_FALSE(big.find("huge", now));
}

TEST_CASE("storing expired results is a no-op and expired entries make room first", "[coalesce]") {
  ResultCache cache;
  Clock::time_point now = Clock::now();
  cache.store("zero", words(1), milliseconds(0), now);
  CHECK(cache.size() == 0);
  cache.store("short", words(1), milliseconds(10), now);
  for (std::size_t i = 1; i < ResultCache::kMaxEntries; ++i) {
    cache.store(std::to_string(i), words(1), milliseconds(1000), now);
  }
  cache.find("short", now);  // the most recently used, but expired by the next store
  cache.store("new", words(1), milliseconds(1000), now + milliseconds(20));
  CHECK_FALSE(cache.find("short", now + milliseconds(20)));
  CHECK(cache.find("1", now + milliseconds(20)));  // not evicted: the expired entry made room
}
