#include "model/interface_hash.h"

#include <string>

#include "model/dump.h"

namespace procxy::model {

std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) hash = (hash ^ c) * 0x100000001b3ULL;
  return hash;
}

std::uint64_t interface_hash(const Module& module, const Interface& interface) {
  std::string text = dump(interface);
  for (const Struct& s : module.structs) {
    text += "struct " + s.qualified_name + "\n";
    for (const Field& f : s.fields) text += "  " + dump(f.type) + "\n";
  }
  return fnv1a(text);
}

}  // namespace procxy::model
