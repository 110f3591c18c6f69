#pragma once

// procxy-gen's input in the generator case: a class using the common std
// headers a real interface pulls in. Parsing them is most of the run.

#include <procxy/annotate.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

namespace bench {

struct Entry {
  std::string name;
  std::vector<std::int64_t> values;
  std::optional<std::chrono::milliseconds> age;
};

class PROCXY_REMOTE Catalog {
 public:
  explicit Catalog(std::filesystem::path root);
  std::map<std::string, Entry> entries(const std::set<std::string>& names) const;
  std::unordered_map<std::string, std::variant<int, double, std::string>> settings();
  std::pair<bool, std::string> rename(std::string_view from, std::string_view to);
  std::tuple<int, int, int> counts() const;
  std::array<double, 4> box(const std::vector<Entry>& entries);
  PROCXY_QUERY std::unordered_set<std::string> tags() const;
  PROCXY_EVENT void changed(const Entry& entry);

 private:
  std::unique_ptr<std::function<void()>> hook_;
};

}  // namespace bench
