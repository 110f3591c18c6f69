#pragma once

#include <procxy/annotate.h>

namespace outer {

// A class with no declared constructor and no methods.
class PROCXY_REMOTE Blank {};

namespace inner {

// Two classes in one header share one schema; their names stay apart.
class PROCXY_REMOTE Counter {
 public:
  explicit Counter(long start);
  long next();
  PROCXY_CACHE(1000) long peek() const;
};

}  // namespace inner

class NotExposed {
 public:
  void ignored();
};

}  // namespace outer
