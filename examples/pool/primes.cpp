#include "primes.h"

namespace demo {
namespace {

bool is_prime(std::uint64_t n) {
  if (n < 2) return false;
  for (std::uint64_t d = 2; d * d <= n; ++d) {
    if (n % d == 0) return false;
  }
  return true;
}

}  // namespace

std::uint64_t Primes::count(std::uint64_t from, std::uint64_t to) {
  std::uint64_t found = 0;
  for (int quarter = 1; quarter <= 4; ++quarter) {
    std::uint64_t begin = from + (to - from) * (quarter - 1) / 4;
    std::uint64_t end = from + (to - from) * quarter / 4;
    for (std::uint64_t n = begin; n < end; ++n) found += is_prime(n);
    progress(from, quarter * 25);
  }
  return found;
}

}  // namespace demo
