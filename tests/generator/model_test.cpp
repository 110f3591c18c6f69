// The interface hash: equal for equal interfaces, different for each kind of
// change that would break the wire.

#include <catch2/catch.hpp>

#include "model/interface_hash.h"

using namespace procxy::model;

namespace {

Type int_type() {
  Type t;
  t.kind = TypeKind::kInt;
  t.spelling = "int";
  t.bits = 32;
  t.is_signed = true;
  return t;
}

Method method(const std::string& name, std::vector<Type> params) {
  Method m;
  m.name = name;
  m.result = int_type();
  for (auto& type : params) {
    Param param;
    param.type = type;
    m.params.push_back(param);
  }
  return m;
}

std::uint64_t hash_of(const Interface& interface) { return interface_hash(Module{}, interface); }

}  // namespace

TEST_CASE("the interface hash changes with every wire-relevant change", "[model]") {
  Interface base;
  base.qualified_name = "n::C";
  base.methods = {method("a", {int_type()}), method("b", {})};
  const std::uint64_t original = hash_of(base);
  CHECK(hash_of(base) == original);

  Interface added = base;
  added.methods.push_back(method("c", {}));
  Interface removed = base;
  removed.methods.pop_back();
  Interface retyped = base;
  retyped.methods[0].params[0].type.bits = 64;
  Interface reordered = base;
  std::swap(reordered.methods[0], reordered.methods[1]);
  Interface renamed = base;
  renamed.qualified_name = "n::D";
  Interface requeried = base;
  requeried.methods[1].kind = MethodKind::kQuery;
  for (const Interface* changed : {&added, &removed, &retyped, &reordered, &renamed, &requeried}) {
    CHECK(hash_of(*changed) != original);
  }
}
