#include "child/registry.h"

#include <map>
#include <mutex>
#include <string>

#include "mutex.h"
#include "side.h"

namespace procxy::detail {
namespace {

struct Registry {
  Mutex mutex;  // nothing else is taken while it is held
  // find_class() hands out pointers to entries: registration only adds, and
  // map entries do not move.
  std::map<std::string, ClassEntry, std::less<>> classes PROCXY_GUARDED_BY(mutex);
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
  MutexLock lock(r.mutex);
  r.classes.emplace(std::string(entry.name), entry);
  return true;
}

const ClassEntry* find_class(std::string_view name) {
  Registry& r = registry();
  MutexLock lock(r.mutex);
  auto it = r.classes.find(name);
  return it == r.classes.end() ? nullptr : &it->second;
}

void unknown_method(std::string_view class_name, std::uint16_t ordinal) {
  throw ProtocolError(std::string("procxy: ") + side_name() + ": " + std::string(class_name) + " has no method form " +
                      std::to_string(ordinal) + "; the parent was built from a different interface");
}

}  // namespace procxy::detail
