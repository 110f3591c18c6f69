// The rule that decides whether a blocking read polls first: it polls while
// polls find data, rests after misses in a row, and probes now and then.

#include "transport/adaptive_poll.h"

#include <catch2/catch.hpp>

using procxy::detail::AdaptivePoll;

namespace {

// How many of the next `waits` waits poll, each poll missing.
int polls_among(AdaptivePoll& poll, int waits) {
  int polls = 0;
  for (int i = 0; i < waits; ++i) {
    if (poll.should_poll()) {
      ++polls;
      poll.miss();
    }
  }
  return polls;
}

}  // namespace

TEST_CASE("a reader polls while its polls find data", "[adaptive_poll]") {
  AdaptivePoll poll;
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(poll.should_poll());
    poll.hit();
  }
}

TEST_CASE("polling rests after misses in a row and then only probes", "[adaptive_poll]") {
  AdaptivePoll poll;
  CHECK(polls_among(poll, AdaptivePoll::kMissesToRest) == AdaptivePoll::kMissesToRest);
  // Resting: one probe in every kProbeEvery waits.
  CHECK(polls_among(poll, AdaptivePoll::kProbeEvery - 1) == 0);
  CHECK(polls_among(poll, 1) == 1);
  CHECK(polls_among(poll, 10 * AdaptivePoll::kProbeEvery) == 10);
}

TEST_CASE("one miss among hits does not stop polling", "[adaptive_poll]") {
  AdaptivePoll poll;
  for (int i = 0; i < 100; ++i) {
    REQUIRE(poll.should_poll());
    if (i % 3 == 0) {
      poll.miss();
    } else {
      poll.hit();
    }
  }
}

TEST_CASE("a probe that finds data makes the reader poll again", "[adaptive_poll]") {
  AdaptivePoll poll;
  polls_among(poll, AdaptivePoll::kMissesToRest);
  int waits = 0;
  while (!poll.should_poll()) ++waits;
  CHECK(waits == AdaptivePoll::kProbeEvery - 1);
  poll.hit();
  for (int i = 0; i < 100; ++i) {
    REQUIRE(poll.should_poll());
    poll.hit();
  }
}
