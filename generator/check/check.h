#pragma once

#include "diagnostics.h"
#include "model/model.h"

namespace procxy::check {

// Reports every problem of the module, not just the first: parameters and
// results that cannot cross the boundary, and events that are defined or do
// not return void.
void check(const model::Module& module, DiagnosticSink& sink);

}  // namespace procxy::check
