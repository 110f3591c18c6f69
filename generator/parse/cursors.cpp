#include "parse/cursors.h"

#include <algorithm>

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

bool has_body(CXCursor cursor) {
  if (clang_isCursorDefinition(cursor)) return true;
  // The declaration's extent ends before its qualifiers and a skipped body:
  // look at the tokens after it for '{', 'try' or ':' (a constructor's
  // initializers) before ';' or '='.
  CXTranslationUnit tu = clang_Cursor_getTranslationUnit(cursor);
  CXSourceLocation end = expansion_of(tu, clang_getRangeEnd(clang_getCursorExtent(cursor)));
  CXFile file;
  unsigned offset = 0;
  clang_getFileLocation(end, &file, nullptr, nullptr, &offset);
  std::size_t size = 0;
  if (!file || !clang_getFileContents(tu, file, &size) || offset >= size) return false;
  constexpr unsigned kLookahead = 256;  // past any whitespace and comments, in practice
  unsigned stop = static_cast<unsigned>(std::min<std::size_t>(size, offset + kLookahead));
  CXToken* list = nullptr;
  unsigned count = 0;
  clang_tokenize(tu, clang_getRange(end, clang_getLocationForOffset(tu, file, stop)), &list, &count);
  bool body = false;
  for (unsigned i = 0; i < count; ++i) {
    unsigned start = 0;
    clang_getFileLocation(clang_getTokenLocation(tu, list[i]), nullptr, nullptr, nullptr, &start);
    if (start < offset) continue;  // the declaration's last token
    std::string spelling = to_string(clang_getTokenSpelling(tu, list[i]));
    if (spelling == "{" || spelling == "try" || spelling == ":") body = true;
    if (body || spelling == ";" || spelling == "=") break;  // else a qualifier: const, noexcept, override
  }
  clang_disposeTokens(tu, list, count);
  return body;
}

}  // namespace procxy::parse
