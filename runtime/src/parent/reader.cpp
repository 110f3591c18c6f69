#include "parent/reader.h"

#include <algorithm>

namespace procxy::detail {

bool ReaderRole::try_take() {
  if (held_) return false;
  held_ = true;
  return true;
}

void ReaderRole::release() { held_ = false; }

void ReaderRole::add_idle(Waiter& waiter) { idle_.push_back(&waiter); }

void ReaderRole::remove_idle(Waiter& waiter) { idle_.erase(std::find(idle_.begin(), idle_.end(), &waiter)); }

ReaderRole::Next ReaderRole::hand_on(bool helper_has_work) {
  if (held_) return Next::kHeld;
  // A caller that was just settled would take the role nowhere.
  for (Waiter* waiter : idle_) {
    if (waiter->waiting()) {
      waiter->cv.notify_one();
      return Next::kWaiter;
    }
  }
  if (!helper_has_work) return Next::kNobody;
  helper_cv_.notify_one();
  return Next::kHelper;
}

}  // namespace procxy::detail
