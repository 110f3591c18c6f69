#pragma once

// Who reads a connection's channel. Callers read for themselves: one blocked
// caller at a time holds the reader role, reads replies and hands each to
// its caller, so a lone synchronous caller reads its own reply with no
// thread hop. The helper thread takes the role only when no blocked caller
// waits and someone else needs reading: asynchronous calls, or subscribed
// events. When the reader leaves, it hands the role on.
//
// No threads and no I/O here: the connection holds its mutex around every
// use and owns the helper thread; this is the bookkeeping of who reads next.

#include <chrono>
#include <condition_variable>
#include <exception>
#include <vector>

#include "procxy/detail/generated_support.h"

namespace procxy::detail {

// A blocked caller, on its own stack.
struct Waiter {
  std::condition_variable cv;
  bool done = false;
  bool cancelled = false;
  bool deferred = false;  // the result is in, queued behind earlier events
  std::chrono::steady_clock::time_point deadline;
  Words result;
  std::exception_ptr error;

  // Still waiting for its result, and so able to read for it.
  bool waiting() const { return !done && !deferred && !cancelled; }
};

class ReaderRole {
 public:
  // Takes the role if nobody holds it.
  bool try_take();
  void release();
  bool held() const { return held_; }

  // A blocked caller that waits without the role; a role handed on may
  // wake it to read.
  void add_idle(Waiter& waiter);
  void remove_idle(Waiter& waiter);

  enum class Next { kNobody, kWaiter, kHelper, kHeld };
  // When nobody holds the role: wakes the first idle caller still waiting,
  // else the helper when `helper_has_work`. Says whom it woke.
  Next hand_on(bool helper_has_work);

  // The helper thread waits here for the role to be handed to it.
  std::condition_variable& helper_cv() { return helper_cv_; }

 private:
  bool held_ = false;
  std::vector<Waiter*> idle_;
  std::condition_variable helper_cv_;
};

}  // namespace procxy::detail
