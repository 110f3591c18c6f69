#pragma once

#include <procxy/annotate.h>

namespace bad {

class PROCXY_REMOTE Emitter {
 public:
  PROCXY_EVENT int returns_value(int x);
  PROCXY_EVENT void has_body(int x) {}
  PROCXY_EVENT void overloaded(int x);
  void overloaded(int x, int y);
  PROCXY_EVENT void bad_parameter(int* out);
  PROCXY_EVENT void body_after_comment(int x) const  // a body on the next line is a body too
  {
  }
};

}  // namespace bad
