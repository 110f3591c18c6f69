#pragma once

// The pool example's worker: counts primes in a range, CPU-bound, and says
// how far it got.

#include <procxy/annotate.h>

#include <cstdint>

namespace demo {

class PROCXY_REMOTE Primes {
 public:
  // Emitted after each quarter of a range: `percent` of [from, to) is done.
  PROCXY_EVENT void progress(std::uint64_t from, int percent);

  // The primes in [from, to). A query: when its child dies, the pool runs
  // it again on another child.
  PROCXY_QUERY std::uint64_t count(std::uint64_t from, std::uint64_t to);
};

}  // namespace demo
