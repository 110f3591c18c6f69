#pragma once

#include <procxy/annotate.h>

namespace shop {

class PROCXY_REMOTE Widget {
 public:
  int size();
};

}  // namespace shop
