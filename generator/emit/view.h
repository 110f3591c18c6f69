#pragma once

// model -> the context the templates render. Every spelling the templates
// need (C++ types, Cap'n Proto types and names, ordinals, argument lists) is
// computed here, so templates only substitute and loop.

#include <kainjow/mustache.hpp>
#include <string>

#include "model/model.h"

namespace procxy::emit {

using Context = kainjow::mustache::data;

// "calculator" for "src/calculator.h".
std::string stem_of(const std::string& header);

Context make_context(const model::Module& module);

}  // namespace procxy::emit
