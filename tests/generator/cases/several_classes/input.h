#pragma once

#include <procxy/annotate.h>

#include <string>

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

namespace handles {

// Methods named like the operations of a Proxy handle: they live behind ->,
// the handle's behind ., so neither hides the other.
class PROCXY_REMOTE LooksLikeAHandle {
 public:
  int pid();
  void terminate();
  void kill();
  int wait();
  bool alive();
  void async();
  void with(int options);
  int connection(int connection);
  void options(const std::string& procxy_connection);
};

}  // namespace handles
