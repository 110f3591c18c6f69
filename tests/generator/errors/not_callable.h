#pragma once

#include <procxy/annotate.h>

namespace bad {

class PROCXY_REMOTE Awkward {
 public:
  bool operator==(const Awkward& other) const;
  template <class T>
  void generic(T value);
  PROCXY_CACHE(0) int uncached() const;

 private:
  Awkward();
};

template <class T>
class PROCXY_REMOTE Templated {
 public:
  T get();
};

}  // namespace bad
