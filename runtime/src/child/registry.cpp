#include "child/registry.h"

#include <map>
#include <mutex>
#include <string>


namespace procxy::detail {
namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, ClassEntry, std::less<>> classes;
};

// Function-local: registration runs during static initialization, in no
// particular order relative to other translation units.
Registry& registry() {
  static Registry instance;
  return instance;
}

}  // namespace

bool register_class(const ClassEntry& entry) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.classes.emplace(std::string(entry.name), entry);
  return true;
}

const ClassEntry* find_class(std::string_view name) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.classes.find(name);
  return it == r.classes.end() ? nullptr : &it->second;
}

}  // namespace procxy::detail
