#pragma once

// Small questions about cursors, shared by the type mapper and the extractor.

#include <clang-c/Index.h>

#include <string>
#include <vector>

#include "model/model.h"

namespace procxy::parse {

// "demo::Point": semantic parents up to the translation unit, without inline
// namespaces (std::__cxx11) and anonymous ones.
std::string qualified_name(CXCursor cursor);

model::SourceLocation location_of(CXCursor cursor);

// The procxy:* annotation strings attached to a declaration.
std::vector<std::string> annotations(CXCursor cursor);

// The tokens of a cursor's extent, spelled.
std::vector<std::string> tokens(CXCursor cursor);

// "= delete" in the declaration.
bool is_deleted(CXCursor cursor);

// Whether a function is defined where `cursor` declares it. The parse skips
// function bodies (for speed), and a skipped body is no definition to
// libclang; its tokens are still in the declaration's extent.
bool has_body(CXCursor cursor);

}  // namespace procxy::parse
