#pragma once

#include <procxy/annotate.h>

#include <chrono>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

namespace bad {

struct HoldsView {
  std::string_view view;
};

// Standard types outside SPEC §1's table, and the table's types used where
// they cannot work.
class PROCXY_REMOTE Standard {
 public:
  std::string_view returns_view();
  void views_in_vector(const std::vector<std::string_view>& views);
  void view_in_struct(HoldsView value);
  void steady(std::chrono::steady_clock::time_point when);
  void single(std::variant<int> value);
  void list(const std::list<int>& values);
  void deque(std::deque<int> values);
  void pointer_values(const std::map<int, int*>& values);
  void optional_pointer(std::optional<const char*> value);
};

}  // namespace bad
