#pragma once

// The views of callable forms: a constructor, method or event called with
// some of its parameters, as generated declarations, definitions, encoders
// and stubs spell it.

#include <string>
#include <vector>

#include "emit/schema.h"
#include "model/model.h"

namespace procxy::emit {

// The view of a form called with the first `arity` of `params` (the others
// take their defaults in the child), whose params struct is `params_struct`.
Context form_view(unsigned ordinal, const std::string& params_struct, const std::vector<model::Param>& params,
                  size_t arity);

// "int", "const std::string&": a parameter's type as declared.
std::string param_type(const model::Param& param);

// The fewest parameters a call may pass: those without defaults.
size_t required_arity(const std::vector<model::Param>& params);

// A doc comment as the user wrote it, indented for a class body.
std::string doc_lines(const std::string& doc);

// [[deprecated("...")]], so that a call through the proxy warns as a local
// call would.
std::string deprecated(const std::string& message);

}  // namespace procxy::emit
