#pragma once

// Class name -> the child-side entry points generated code registered.

#include <cstdint>
#include <string_view>

#include "procxy/detail/generated_support.h"

namespace procxy::detail {

// nullptr when no class of that name is linked into this program.
const ClassEntry* find_class(std::string_view name);

}  // namespace procxy::detail
