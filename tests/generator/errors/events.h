#pragma once

#include <procxy/annotate.h>

namespace bad {

class PROCXY_REMOTE Emitter {
 public:
  PROCXY_EVENT int returns_value(int x);
  PROCXY_EVENT void has_body(int x) {}
};

}  // namespace bad
