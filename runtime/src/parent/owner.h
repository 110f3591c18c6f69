#pragma once

// The process a proxy's connection belongs to: the one that made it. A
// process forked from it without exec has a copy of the connection, whose
// threads do not exist there and whose child is the other process's, so the
// copy is inert (SPEC §15): calls through it throw, destroying it touches
// nothing.

#include <sys/types.h>

namespace procxy::detail {

class ProcessOwner {
 public:
  ProcessOwner();

  // False in a process forked from the owner without exec.
  bool here() const;
  // Throws procxy::Error, about `what` ("proxy", "subscription"), unless here().
  void check(const char* what) const;

 private:
  const pid_t pid_;
};

}  // namespace procxy::detail
