#pragma once

#include <vector>

#include "diagnostics.h"
#include "model/model.h"

namespace procxy::check {

// Reports every problem of the module, not just the first: parameters and
// results that cannot cross the boundary, and events that are defined or do
// not return void.
void check(const model::Module& module, DiagnosticSink& sink);

// Problems between the headers of one run (one target): a remote class
// declared in two headers, or two headers that would write the same files.
void check_together(const std::vector<model::Module>& modules, DiagnosticSink& sink);

}  // namespace procxy::check
