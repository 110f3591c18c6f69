#pragma once

#include <procxy/annotate.h>

namespace bench {

class PROCXY_REMOTE Adder {
 public:
  int add(int a, int b) { return a + b; }
};

}  // namespace bench
