#pragma once

#include <procxy/annotate.h>

namespace shop {

// The same class, the same file name: both clash with ../one/widget.h.
class PROCXY_REMOTE Widget {
 public:
  int weight();
};

}  // namespace shop
