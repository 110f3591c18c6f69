#pragma once

// The class the compile-fail cases misuse.

#include <procxy/annotate.h>

#include <string>

namespace demo {

class PROCXY_REMOTE Widget {
 public:
  Widget();
  explicit Widget(int size);
  Widget(const std::string& name, int size);
  int size() const;
  void reset();
  PROCXY_EVENT void resized(int size);
};

// Not given to procxy_generate: it has no proxy.
class Plain {
 public:
  explicit Plain(int) {}
};

}  // namespace demo
