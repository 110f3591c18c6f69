// The payload pool: a released payload serves the next one of its size
// class, and the pool keeps only a few free buffers per class.

#include "transport/payload_pool.h"

#include <catch2/catch.hpp>
#include <set>
#include <vector>

using namespace procxy::detail;

TEST_CASE("a released payload is reused by the next of its size class") {
  auto first = take_payload(100);
  REQUIRE(first.size() == 100);
  const capnp::word* memory = first.begin();
  first = nullptr;
  auto second = take_payload(512);  // 100 and 512 words share the 4 KiB class
  CHECK(second.size() == 512);
  CHECK(second.begin() == memory);
  auto other_class = take_payload(513);
  CHECK(other_class.begin() != memory);
}

TEST_CASE("the pool keeps a bounded number of free buffers per class") {
  const std::size_t words = 40'000;  // a class no other test uses
  std::vector<kj::Array<capnp::word>> taken;
  for (std::size_t i = 0; i < kKeptPerSize + 2; ++i) taken.push_back(take_payload(words));
  std::set<const capnp::word*> released;
  for (auto& payload : taken) released.insert(payload.begin());
  taken.clear();
  std::size_t reused = 0;
  for (std::size_t i = 0; i < kKeptPerSize + 2; ++i) {
    taken.push_back(take_payload(words));
    reused += released.count(taken.back().begin());
  }
  // The kept ones come back; freed memory may be handed out again by malloc.
  CHECK(reused >= kKeptPerSize);
}

TEST_CASE("empty and very large payloads") {
  CHECK(take_payload(0).size() == 0);
  auto large = take_payload((std::size_t{1} << 21) + 1);  // above the largest class: plain memory
  CHECK(large.size() == (std::size_t{1} << 21) + 1);
}
