#pragma once

// Renders the templates of templates/, embedded into procxy-gen at build time.

#include <string>

#include "emit/view.h"

namespace procxy::emit {

// Renders the top-level template `name` ("procxy.h", "procxy.cpp",
// "procxy.capnp"); every other template is available to it as a partial.
// A malformed template is a bug in procxy-gen: throws std::logic_error naming it.
std::string render(const std::string& name, Context context);

}  // namespace procxy::emit
