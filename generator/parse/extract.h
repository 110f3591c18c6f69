#pragma once

#include <clang-c/Index.h>

#include "diagnostics.h"
#include "model/model.h"

namespace procxy::parse {

// Walks the main file of a parsed translation unit and adds every
// PROCXY_REMOTE class to `module`. Problems that are not about types (an
// operator, a member template, a class without a public constructor) are
// reported to `sink` here; unsupported types are left for check/.
void extract(CXTranslationUnit tu, model::Module& module, DiagnosticSink& sink);

}  // namespace procxy::parse
