#pragma once

// Class name -> the child-side entry points generated code registered.

#include <cstdint>
#include <string_view>

#include "procxy/detail/generated_support.h"

namespace procxy::detail {

// nullptr when no class of that name is linked into this program.
const ClassEntry* find_class(std::string_view name);

// Whether a parent that selected `entry` with this interface hash and runtime
// version was built from the same header and the same procxy as this child.
bool built_alike(const ClassEntry& entry, std::uint64_t interface_hash, std::uint32_t runtime_version);

}  // namespace procxy::detail
