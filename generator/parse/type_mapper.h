#pragma once

// CXType -> model::Type. Aliases are resolved through canonical types;
// aggregates are added to the module (dependencies first) the first time they
// are met. A type that cannot cross the boundary maps to kUnsupported with the
// spelling the user wrote and the advice check/ prints.

#include <clang-c/Index.h>

#include <map>
#include <set>
#include <string>

#include "model/model.h"

namespace procxy::parse {

class TypeMapper {
 public:
  explicit TypeMapper(model::Module& module) : module_(module) {}

  // A value type: a return type, a field, or a parameter's type after the
  // reference has been taken off.
  model::Type map(CXType type);

  // A parameter: by value or const&; other references are refused.
  model::Type map_param(CXType type, model::PassBy& pass);

 private:
  model::Type map_canonical(CXType type);  // map() without the alias's name
  model::Type map_record(CXType canonical, const std::string& written);
  model::Type map_aggregate(CXCursor decl, const std::string& name, const std::string& spelling,
                            const std::string& written);

  // A record's or enum's key (its qualified name) and its C++ spelling;
  // false for an unnamed type that is no member's type.
  struct Naming {
    std::string key;
    std::string spelling;
  };
  bool naming(CXCursor decl, Naming& out) const;

  model::Module& module_;
  // Unnamed member types (struct { int x; } pos;), by USR: named after the
  // member, spelled decltype(::Outer::pos).
  std::map<std::string, Naming> unnamed_;
  std::set<std::string> in_progress_;  // aggregates being mapped: recursion guard
  std::set<std::string> mapped_;       // aggregates already in module_.structs
};

}  // namespace procxy::parse
