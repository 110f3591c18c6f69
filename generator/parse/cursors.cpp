#include "parse/cursors.h"

#include "parse/clang_handles.h"

namespace procxy::parse {

std::string qualified_name(CXCursor cursor) {
  std::string name = to_string(clang_getCursorSpelling(cursor));
  for (CXCursor parent = clang_getCursorSemanticParent(cursor);
       !clang_Cursor_isNull(parent) && parent.kind != CXCursor_TranslationUnit;
       parent = clang_getCursorSemanticParent(parent)) {
    if (parent.kind == CXCursor_Namespace && clang_Cursor_isInlineNamespace(parent)) continue;
    std::string part = to_string(clang_getCursorSpelling(parent));
    if (part.empty()) continue;  // anonymous namespace
    name = part + "::" + name;
  }
  return name;
}

model::SourceLocation location_of(CXCursor cursor) {
  CXFile file;
  unsigned line = 0, column = 0;
  clang_getSpellingLocation(clang_getCursorLocation(cursor), &file, &line, &column, nullptr);
  return {file ? to_string(clang_getFileName(file)) : "", line, column};
}

std::vector<std::string> annotations(CXCursor cursor) {
  std::vector<std::string> result;
  visit_children(cursor, [&](CXCursor child) {
    if (child.kind != CXCursor_AnnotateAttr) return;
    std::string text = to_string(clang_getCursorSpelling(child));
    if (text.rfind("procxy:", 0) == 0) result.push_back(text);
  });
  return result;
}

namespace {

// The same location, moved out of any macro expansion it is in: a range that
// starts inside PROCXY_EVENT would tokenize to nothing.
CXSourceLocation expansion_of(CXTranslationUnit tu, CXSourceLocation location) {
  CXFile file;
  unsigned line = 0, column = 0;
  clang_getExpansionLocation(location, &file, &line, &column, nullptr);
  return clang_getLocation(tu, file, line, column);
}

}  // namespace

std::vector<std::string> tokens(CXCursor cursor) {
  CXTranslationUnit tu = clang_Cursor_getTranslationUnit(cursor);
  CXSourceRange extent = clang_getCursorExtent(cursor);
  CXSourceRange range =
      clang_getRange(expansion_of(tu, clang_getRangeStart(extent)), expansion_of(tu, clang_getRangeEnd(extent)));
  CXToken* list = nullptr;
  unsigned count = 0;
  clang_tokenize(tu, range, &list, &count);
  std::vector<std::string> result;
  result.reserve(count);
  for (unsigned i = 0; i < count; ++i) result.push_back(to_string(clang_getTokenSpelling(tu, list[i])));
  clang_disposeTokens(tu, list, count);
  return result;
}

bool is_deleted(CXCursor cursor) {
  std::vector<std::string> spelled = tokens(cursor);
  for (size_t i = 1; i < spelled.size(); ++i) {
    if (spelled[i - 1] == "=" && spelled[i] == "delete") return true;
  }
  return false;
}

}  // namespace procxy::parse
