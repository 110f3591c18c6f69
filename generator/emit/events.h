#pragma once

// The views of one class's PROCXY_EVENTs: a form per event, and a listen()
// overload per distinct member pointer type, in order of first appearance.

#include <string>
#include <utility>
#include <vector>

#include "emit/schema.h"
#include "model/model.h"

namespace procxy::emit {

class EventViews {
 public:
  // Adds `event` of `interface`; its params struct is named after `base`.
  void add(const model::Interface& interface, const model::Method& event, const std::string& prefix,
           const std::string& base, Schema& schema);

  // Sets "events", "event_types" and "is_event" on the class's view.
  void set_on(Context& view) const;

 private:
  Context events_{Context::type::list};
  std::vector<std::pair<std::string, Context>> by_type_;  // member pointer type -> its events
};

}  // namespace procxy::emit
