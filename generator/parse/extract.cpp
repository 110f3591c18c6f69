#include "parse/extract.h"

#include <algorithm>
#include <string>

#include "parse/clang_handles.h"
#include "parse/cursors.h"
#include "parse/type_mapper.h"

namespace procxy::parse {
namespace {

bool has(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

bool in_main_file(CXCursor cursor) { return clang_Location_isFromMainFile(clang_getCursorLocation(cursor)) != 0; }

class Extractor {
 public:
  Extractor(model::Module& module, DiagnosticSink& sink) : module_(module), sink_(sink), types_(module) {}

  void visit_scope(CXCursor scope) {
    visit_children(scope, [&](CXCursor child) {
      if (!in_main_file(child)) return;
      switch (clang_getCursorKind(child)) {
        case CXCursor_Namespace:
          visit_scope(child);
          return;
        case CXCursor_ClassDecl:
        case CXCursor_StructDecl:
          if (clang_isCursorDefinition(child) && has(annotations(child), "procxy:remote")) {
            extract_class(child);
          }
          return;
        case CXCursor_ClassTemplate:
          if (has(annotations(child), "procxy:remote")) {
            sink_.error(location_of(child), "class template '" + qualified_name(child) +
                                                "' cannot be PROCXY_REMOTE; annotate a class instead");
          }
          return;
        default:
          return;
      }
    });
  }

 private:
  std::vector<model::Param> params_of(CXCursor function) {
    std::vector<model::Param> params;
    int count = clang_Cursor_getNumArguments(function);
    for (int i = 0; i < count; ++i) {
      CXCursor arg = clang_Cursor_getArgument(function, static_cast<unsigned>(i));
      model::Param param;
      param.name = to_string(clang_getCursorSpelling(arg));
      param.type = types_.map_param(clang_getCursorType(arg), param.pass);
      param.has_default = has(tokens(arg), "=");
      param.location = location_of(arg);
      params.push_back(std::move(param));
    }
    return params;
  }

  void extract_method(CXCursor cursor, model::Interface& interface) {
    std::string name = to_string(clang_getCursorSpelling(cursor));
    std::vector<std::string> notes = annotations(cursor);
    if (has(notes, "procxy:hidden") || clang_CXXMethod_isStatic(cursor) || is_deleted(cursor)) return;
    if (name.rfind("operator", 0) == 0) {
      sink_.error(location_of(cursor), "'" + interface.qualified_name + "::" + name +
                                           "' cannot be exposed: operators cannot be called through a "
                                           "proxy (mark it PROCXY_HIDDEN, or give it a name)");
      return;
    }
    model::Method method;
    method.name = name;
    method.is_const = clang_CXXMethod_isConst(cursor);
    method.is_defined = has_body(cursor);
    method.location = location_of(cursor);
    method.result = types_.map(clang_getCursorResultType(cursor));
    method.params = params_of(cursor);
    for (const std::string& note : notes) {
      if (note == "procxy:query") method.kind = model::MethodKind::kQuery;
      if (note == "procxy:event") method.kind = model::MethodKind::kEvent;
      if (note.rfind("procxy:cache:", 0) == 0) {
        method.kind = model::MethodKind::kQuery;
        method.cache_ms = std::atoi(note.c_str() + 13);
        if (method.cache_ms <= 0) {
          sink_.error(method.location, "PROCXY_CACHE of '" + interface.qualified_name + "::" + name +
                                           "' needs a positive number of milliseconds");
        }
      }
    }
    interface.methods.push_back(std::move(method));
  }

  void extract_class(CXCursor cls) {
    model::Interface interface;
    interface.name = to_string(clang_getCursorSpelling(cls));
    interface.qualified_name = qualified_name(cls);
    interface.location = location_of(cls);
    bool declares_constructor = false;
    visit_children(cls, [&](CXCursor child) {
      CXCursorKind kind = clang_getCursorKind(child);
      if (kind == CXCursor_Constructor) declares_constructor = true;
      if (clang_getCXXAccessSpecifier(child) != CX_CXXPublic) return;
      switch (kind) {
        case CXCursor_Constructor:
          if (clang_CXXConstructor_isCopyConstructor(child) || clang_CXXConstructor_isMoveConstructor(child) ||
              is_deleted(child) || has(annotations(child), "procxy:hidden")) {
            return;
          }
          interface.constructors.push_back({params_of(child), location_of(child)});
          return;
        case CXCursor_CXXMethod:
          extract_method(child, interface);
          return;
        case CXCursor_FunctionTemplate:
          if (has(annotations(child), "procxy:hidden")) return;
          sink_.error(location_of(child), "member template '" + interface.qualified_name +
                                              "::" + to_string(clang_getCursorSpelling(child)) +
                                              "' cannot be exposed (mark it PROCXY_HIDDEN)");
          return;
        default:
          return;
      }
    });
    if (!declares_constructor) interface.constructors.push_back({{}, interface.location});
    if (interface.constructors.empty()) {
      sink_.error(interface.location,
                  "'" + interface.qualified_name + "' has no public constructor, so a child cannot create it");
    }
    module_.interfaces.push_back(std::move(interface));
  }

  model::Module& module_;
  DiagnosticSink& sink_;
  TypeMapper types_;
};

}  // namespace

void extract(CXTranslationUnit tu, model::Module& module, DiagnosticSink& sink) {
  Extractor(module, sink).visit_scope(clang_getTranslationUnitCursor(tu));
}

}  // namespace procxy::parse
