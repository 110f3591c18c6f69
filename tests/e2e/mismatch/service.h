#pragma once

// e2e::Service as an older build might have had it: same class name, another
// interface. An agent built from it must refuse parents built from ../service.h.

#include <procxy/annotate.h>

namespace e2e {

class PROCXY_REMOTE Service {
 public:
  int add(int a, int b) { return a + b; }
};

}  // namespace e2e
