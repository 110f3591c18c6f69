#pragma once

// RAII owners for the libclang resources procxy-gen uses, and a lambda
// visitor. Only parse/ includes clang-c.

#include <clang-c/Index.h>

#include <memory>
#include <string>
#include <type_traits>

namespace procxy::parse {

struct IndexDeleter {
  void operator()(void* index) const { clang_disposeIndex(index); }
};
using Index = std::unique_ptr<void, IndexDeleter>;

struct TranslationUnitDeleter {
  void operator()(CXTranslationUnit tu) const { clang_disposeTranslationUnit(tu); }
};
using TranslationUnit = std::unique_ptr<std::remove_pointer_t<CXTranslationUnit>, TranslationUnitDeleter>;

// Takes ownership of a CXString and returns its text.
inline std::string to_string(CXString text) {
  const char* c = clang_getCString(text);
  std::string result = c ? c : "";
  clang_disposeString(text);
  return result;
}

// Calls fn(child) for every direct child of `parent`.
template <class Fn>
void visit_children(CXCursor parent, Fn&& fn) {
  clang_visitChildren(
      parent,
      [](CXCursor child, CXCursor, CXClientData data) {
        (*static_cast<std::remove_reference_t<Fn>*>(data))(child);
        return CXChildVisit_Continue;
      },
      &fn);
}

}  // namespace procxy::parse
