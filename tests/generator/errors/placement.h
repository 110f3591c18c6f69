#pragma once

// Remote classes where generated code cannot name them (issue 17).

#include <procxy/annotate.h>

namespace bad {

class Holder {
  class PROCXY_REMOTE Hidden {
   public:
    int get();
  };
};

namespace {
class PROCXY_REMOTE Anonymous {
 public:
  int get();
};
}  // namespace

}  // namespace bad
