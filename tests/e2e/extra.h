#pragma once

// A class linked into the test program but not into the agent, to check that
// an agent refuses a class it does not have.

#include <procxy/annotate.h>

namespace e2e {

class PROCXY_REMOTE Extra {
 public:
  int twice(int x) { return 2 * x; }
};

}  // namespace e2e
