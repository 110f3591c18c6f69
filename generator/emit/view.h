#pragma once

// model -> the context the templates render. Every spelling the templates
// need (C++ types, Cap'n Proto types and names, ordinals, argument lists) is
// computed here and in the modules it assembles (names, schema, forms,
// class_view, events), so templates only substitute and loop.

#include <string>

#include "emit/schema.h"
#include "model/model.h"

namespace procxy::emit {

// "calculator" for "src/calculator.h".
std::string stem_of(const std::string& header);

Context make_context(const model::Module& module);

}  // namespace procxy::emit
