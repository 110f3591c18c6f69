#include "parse/extract.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "model/dump.h"
#include "parse/clang_handles.h"
#include "parse/cursors.h"
#include "parse/type_mapper.h"

namespace procxy::parse {
namespace {

bool has(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

bool in_main_file(CXCursor cursor) { return clang_Location_isFromMainFile(clang_getCursorLocation(cursor)) != 0; }

// "operator==", "operator()", "operator new": not "operator_count".
bool is_operator_name(const std::string& name) {
  if (name.rfind("operator", 0) != 0 || name.size() == 8) return name == "operator";
  unsigned char next = static_cast<unsigned char>(name[8]);
  return !(std::isalnum(next) || next == '_' || next >= 0x80);
}

// The record a type names, or a null cursor.
CXCursor record_of(CXType type) {
  CXType canonical = clang_getCanonicalType(type);
  if (canonical.kind == CXType_LValueReference || canonical.kind == CXType_RValueReference) {
    canonical = clang_getCanonicalType(clang_getPointeeType(canonical));
  }
  if (canonical.kind != CXType_Record) return clang_getNullCursor();
  return clang_getCursorDefinition(clang_getTypeDeclaration(canonical));
}

// Copy and move assignment: special members, like the copy constructor.
bool is_assignment_of(CXCursor method, CXCursor cls) {
  if (to_string(clang_getCursorSpelling(method)) != "operator=" || clang_Cursor_getNumArguments(method) != 1) {
    return false;
  }
  CXCursor record = record_of(clang_getCursorType(clang_Cursor_getArgument(method, 0)));
  return !clang_Cursor_isNull(record) && clang_equalCursors(record, clang_getCursorDefinition(cls));
}

// The declarations a using-declaration brings in.
std::vector<CXCursor> used_declarations(CXCursor using_declaration) {
  std::vector<CXCursor> used;
  visit_children(using_declaration, [&](CXCursor child) {
    if (clang_getCursorKind(child) != CXCursor_OverloadedDeclRef) return;
    for (unsigned i = 0, n = clang_getNumOverloadedDecls(child); i < n; ++i) {
      used.push_back(clang_getOverloadedDecl(child, i));
    }
  });
  return used;
}

bool in_std(CXCursor cursor) { return qualified_name(cursor).rfind("std::", 0) == 0; }

// The comment before a declaration, as written (// and /// alike: the
// parse keeps every comment), without trailing blank lines.
std::string doc_comment(CXCursor cursor) {
  std::string text = to_string(clang_Cursor_getRawCommentText(cursor));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

class Extractor {
 public:
  Extractor(model::Module& module, DiagnosticSink& sink) : module_(module), sink_(sink), types_(module) {}

  // Namespaces, extern "C++" blocks and classes (a remote class may be
  // nested in another) are searched; a remote class elsewhere is refused.
  void visit_scope(CXCursor scope) {
    visit_children(scope, [&](CXCursor child) {
      if (!in_main_file(child)) return;
      CXCursorKind kind = clang_getCursorKind(child);
      // libclang 14 reports extern "C++" { } as an unexposed declaration.
      if (kind == CXCursor_Namespace || kind == CXCursor_LinkageSpec || kind == CXCursor_UnexposedDecl) {
        visit_scope(child);
      } else if (kind == CXCursor_ClassDecl || kind == CXCursor_StructDecl) {
        if (clang_isCursorDefinition(child) && has(annotations(child), "procxy:remote")) extract_class(child);
        if (clang_isCursorDefinition(child)) visit_scope(child);
      } else if (kind == CXCursor_ClassTemplate || kind == CXCursor_ClassTemplatePartialSpecialization) {
        if (has(annotations(child), "procxy:remote")) {
          sink_.error(location_of(child), "class template '" + qualified_name(child) +
                                              "' cannot be PROCXY_REMOTE; annotate a class instead");
        }
        refuse_nested_in_template(child);
      }
    });
  }

  // A class nested in a class template is a template too.
  void refuse_nested_in_template(CXCursor scope) {
    visit_children(scope, [&](CXCursor child) {
      CXCursorKind kind = clang_getCursorKind(child);
      if (kind != CXCursor_ClassDecl && kind != CXCursor_StructDecl && kind != CXCursor_ClassTemplate) return;
      if (has(annotations(child), "procxy:remote")) {
        sink_.error(location_of(child), "'" + qualified_name(child) + "' cannot be PROCXY_REMOTE: it is nested in class template '" +
                                            qualified_name(scope) + "', so it is a template too; move it out of the template");
      }
      refuse_nested_in_template(child);
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

  // Why a class cannot be created in a child, or empty.
  static std::string why_not_creatable(CXCursor cls) {
    if (clang_getCXXAccessSpecifier(cls) == CX_CXXPrivate || clang_getCXXAccessSpecifier(cls) == CX_CXXProtected) {
      return "it is a non-public member of '" + qualified_name(clang_getCursorSemanticParent(cls)) +
             "', so generated code cannot name it; make it public";
    }
    for (CXCursor parent = clang_getCursorSemanticParent(cls); parent.kind == CXCursor_Namespace;
         parent = clang_getCursorSemanticParent(parent)) {
      if (clang_Cursor_isAnonymous(parent)) {
        return "it is in an anonymous namespace, so each file that includes the header has its own; use a named "
               "namespace";
      }
    }
    return "";
  }

  // Names `record` declares as methods (any access) or with `using`: they
  // hide the same names of its bases.
  static std::set<std::string> declared_names(CXCursor record) {
    std::set<std::string> names;
    visit_children(record, [&](CXCursor child) {
      CXCursorKind kind = clang_getCursorKind(child);
      if (kind == CXCursor_CXXMethod || kind == CXCursor_FunctionTemplate || kind == CXCursor_UsingDeclaration ||
          kind == CXCursor_ConversionFunction) {
        names.insert(to_string(clang_getCursorSpelling(child)));
      }
    });
    return names;
  }

  // A method of the class or, with `from` set, of a base class.
  void extract_method(CXCursor cursor, model::Interface& interface, const std::string& from) {
    std::string name = to_string(clang_getCursorSpelling(cursor));
    std::vector<std::string> notes = annotations(cursor);
    if (has(notes, "procxy:hidden") || clang_CXXMethod_isStatic(cursor) || is_deleted(cursor)) return;
    std::string owner = interface.qualified_name + "::" + name;
    if (clang_getCursorKind(cursor) == CXCursor_ConversionFunction || is_operator_name(name)) {
      if (is_assignment_of(cursor, clang_getCursorSemanticParent(cursor))) return;  // a special member
      refuse_member(cursor, from, "'" + owner + "' cannot be exposed: operators cannot be called through a proxy",
                    "mark it PROCXY_HIDDEN, or give it a name");
      return;
    }
    if (clang_Cursor_isVariadic(cursor)) {
      refuse_member(cursor, from, "'" + owner + "' takes C variadic arguments (...), which have no types to send",
                    "take a std::vector, or mark it PROCXY_HIDDEN");
      return;
    }
    if (clang_Type_getCXXRefQualifier(clang_getCursorType(cursor)) == CXRefQualifier_RValue) {
      refuse_member(cursor, from,
                    "'" + owner + "' is &&-qualified, so only an expiring object may call it, and the child's object "
                                  "lives on",
                    "remove the && or mark it PROCXY_HIDDEN");
      return;
    }
    model::Method method;
    method.name = name;
    method.is_const = clang_CXXMethod_isConst(cursor);
    int exceptions = clang_getCursorExceptionSpecificationType(cursor);
    method.is_noexcept = exceptions == CXCursor_ExceptionSpecificationKind_BasicNoexcept;
    method.is_defined = has_body(cursor);
    method.location = location_of(cursor);
    method.result = types_.map(clang_getCursorResultType(cursor));
    method.params = params_of(cursor);
    method.doc = doc_comment(cursor);
    method.inherited_from = from;
    deprecation(cursor, method);
    for (const std::string& note : notes) {
      if (note == "procxy:query") method.kind = model::MethodKind::kQuery;
      if (note == "procxy:event") method.kind = model::MethodKind::kEvent;
      if (note.rfind("procxy:cache:", 0) == 0) {
        method.kind = model::MethodKind::kQuery;
        method.cache_ms = std::atoi(note.c_str() + 13);
        if (method.cache_ms <= 0) {
          sink_.error(method.location, "PROCXY_CACHE of '" + owner + "' needs a positive number of milliseconds");
        }
      }
    }
    if (method.kind == model::MethodKind::kEvent) {
      // procxy-gen writes the event's definition, which must repeat its
      // qualifiers exactly: const and noexcept it can.
      std::string why = exceptions == CXCursor_ExceptionSpecificationKind_ComputedNoexcept ? "noexcept(...)"
                        : clang_Type_getCXXRefQualifier(clang_getCursorType(cursor)) != CXRefQualifier_None
                            ? "a ref-qualifier"
                            : "";
      if (!why.empty()) {
        sink_.error(method.location, "event '" + owner + "' has " + why +
                                         ", which the generated definition cannot repeat; declare it as plain "
                                         "void f(...), const or noexcept");
        return;
      }
    }
    if (!from.empty() && method.kind == model::MethodKind::kEvent) {
      sink_.error(method.location, "event '" + from + "::" + name + "' is inherited by '" + interface.qualified_name +
                                       "'; declare the PROCXY_EVENT in the PROCXY_REMOTE class itself");
      return;
    }
    if (!from.empty() && overridden(interface, method)) return;
    interface.methods.push_back(std::move(method));
  }

  // An inherited method the class declares again (an override, or the same
  // one through two `using`s) is exposed once, as the class's own.
  static bool overridden(const model::Interface& interface, const model::Method& method) {
    return std::any_of(interface.methods.begin(), interface.methods.end(), [&](const model::Method& other) {
      if (other.name != method.name || other.is_const != method.is_const ||
          other.params.size() != method.params.size()) {
        return false;
      }
      for (size_t i = 0; i < other.params.size(); ++i) {
        if (model::dump(other.params[i].type) != model::dump(method.params[i].type)) return false;
      }
      return true;
    });
  }

  // A member that cannot be exposed: an error in the class itself, where
  // PROCXY_HIDDEN can be written; a warning for a base class's member, which
  // is simply not exposed.
  void refuse_member(CXCursor cursor, const std::string& from, const std::string& what, const std::string& advice) {
    if (from.empty()) {
      sink_.error(location_of(cursor), what + " (" + advice + ")");
    } else {
      sink_.report(Severity::kWarning, location_of(cursor),
                   what + "; it is inherited from '" + from + "' and not exposed");
    }
  }

  static void deprecation(CXCursor cursor, model::Method& method) {
    int always_deprecated = 0;
    CXString message;
    clang_getCursorPlatformAvailability(cursor, &always_deprecated, &message, nullptr, nullptr, nullptr, 0);
    method.is_deprecated = always_deprecated != 0;
    method.deprecated_message = to_string(message);
  }

  // The public methods of `record` and of its public bases, a name declared
  // nearer to the class hiding the same name further up.
  void extract_methods(CXCursor record, model::Interface& interface, const std::string& from,
                       const std::set<std::string>& hidden) {
    visit_children(record, [&](CXCursor child) {
      if (clang_getCXXAccessSpecifier(child) != CX_CXXPublic) return;
      std::string name = to_string(clang_getCursorSpelling(child));
      switch (clang_getCursorKind(child)) {
        case CXCursor_CXXMethod:
        case CXCursor_ConversionFunction:
          if (!hidden.count(name)) extract_method(child, interface, from);
          return;
        case CXCursor_UsingDeclaration:
          if (hidden.count(name)) return;
          for (CXCursor used : used_declarations(child)) {
            if (clang_getCursorKind(used) == CXCursor_CXXMethod) {
              extract_method(used, interface, qualified_name(clang_getCursorSemanticParent(used)));
            }
          }
          return;
        case CXCursor_FunctionTemplate:
          if (has(annotations(child), "procxy:hidden") || hidden.count(name)) return;
          refuse_member(child, from, "member template '" + interface.qualified_name + "::" + name + "' cannot be exposed",
                        "mark it PROCXY_HIDDEN");
          return;
        default:
          return;
      }
    });
    std::set<std::string> hidden_above = hidden;
    for (const std::string& name : declared_names(record)) hidden_above.insert(name);
    std::map<std::string, std::string> from_bases;  // name -> the base it came from
    visit_children(record, [&](CXCursor child) {
      if (clang_getCursorKind(child) != CXCursor_CXXBaseSpecifier ||
          clang_getCXXAccessSpecifier(child) != CX_CXXPublic) {
        return;
      }
      CXCursor base = record_of(clang_getCursorType(child));
      if (clang_Cursor_isNull(base) || in_std(base)) return;  // std's bases hold nothing that crosses
      size_t before = interface.methods.size();
      extract_methods(base, interface, qualified_name(base), hidden_above);
      // A name found in two bases is ambiguous in C++ too.
      for (size_t i = before; i < interface.methods.size(); ++i) {
        const model::Method& method = interface.methods[i];
        auto earlier = from_bases.find(method.name);
        if (earlier != from_bases.end() && earlier->second != method.inherited_from) {
          sink_.error(method.location, "'" + method.name + "' is inherited by '" + interface.qualified_name +
                                           "' from both '" + earlier->second + "' and '" + method.inherited_from +
                                           "', so a call is ambiguous; add 'using " + method.inherited_from +
                                           "::" + method.name + ";' (or the other) to '" + interface.qualified_name +
                                           "'");
          interface.methods.erase(interface.methods.begin() + static_cast<std::ptrdiff_t>(i), interface.methods.end());
          break;
        }
      }
      for (size_t i = before; i < interface.methods.size(); ++i) {
        from_bases.emplace(interface.methods[i].name, interface.methods[i].inherited_from);
      }
    });
  }

  // Whether `record` can be default-constructed by a class derived from it.
  static bool default_constructible(CXCursor record) {
    bool declares = false, has_default = false;
    visit_children(record, [&](CXCursor child) {
      if (clang_getCursorKind(child) == CXCursor_Constructor) {
        declares = true;
        bool all_defaulted = true;
        for (int i = 0, n = clang_Cursor_getNumArguments(child); i < n; ++i) {
          all_defaulted = all_defaulted && has(tokens(clang_Cursor_getArgument(child, static_cast<unsigned>(i))), "=");
        }
        if (all_defaulted && !is_deleted(child) && clang_getCXXAccessSpecifier(child) != CX_CXXPrivate) {
          has_default = true;
        }
      }
    });
    if (declares) return has_default;
    // The implicit one: every base and every member without an initializer
    // must be default-constructible (a reference or a const scalar is not).
    bool parts = true;
    visit_children(record, [&](CXCursor child) {
      CXCursorKind kind = clang_getCursorKind(child);
      if (kind == CXCursor_CXXBaseSpecifier) {
        CXCursor base = record_of(clang_getCursorType(child));
        parts = parts && (clang_Cursor_isNull(base) || default_constructible(base));
      } else if (kind == CXCursor_FieldDecl) {
        std::vector<std::string> spelled = tokens(child);
        if (has(spelled, "=") || has(spelled, "{")) return;  // a default member initializer
        CXType type = clang_getCanonicalType(clang_getCursorType(child));
        if (type.kind == CXType_LValueReference || type.kind == CXType_RValueReference ||
            (clang_isConstQualifiedType(type) && type.kind != CXType_Record)) {
          parts = false;
        } else if (type.kind == CXType_Record) {
          CXCursor member = clang_getCursorDefinition(clang_getTypeDeclaration(type));
          parts = parts && (clang_Cursor_isNull(member) || in_std(member) || default_constructible(member));
        }
      }
    });
    return parts;
  }

  void add_constructor(CXCursor ctor, model::Interface& interface) {
    if (clang_getCXXAccessSpecifier(ctor) != CX_CXXPublic || clang_CXXConstructor_isCopyConstructor(ctor) ||
        clang_CXXConstructor_isMoveConstructor(ctor) || is_deleted(ctor) ||
        has(annotations(ctor), "procxy:hidden")) {
      return;
    }
    interface.constructors.push_back({params_of(ctor), location_of(ctor)});
  }

  void extract_class(CXCursor cls) {
    model::Interface interface;
    interface.name = to_string(clang_getCursorSpelling(cls));
    interface.qualified_name = qualified_name(cls);
    interface.location = location_of(cls);
    if (std::string why = why_not_creatable(cls); !why.empty()) {
      sink_.error(interface.location, "'" + interface.qualified_name + "' cannot be PROCXY_REMOTE: " + why);
      return;
    }
    if (clang_CXXRecord_isAbstract(cls)) {
      sink_.error(interface.location, "'" + interface.qualified_name +
                                          "' is abstract (it has pure virtual methods), so a child cannot create it; "
                                          "annotate a concrete class derived from it instead");
      return;
    }
    bool declares_constructor = false;
    visit_children(cls, [&](CXCursor child) {
      CXCursorKind kind = clang_getCursorKind(child);
      if (kind == CXCursor_Constructor) {
        declares_constructor = true;
        add_constructor(child, interface);
      } else if (kind == CXCursor_UsingDeclaration) {
        // using Base::Base: the base's constructors but its copy and move,
        // read from the base (libclang lists only the implicit ones here).
        std::vector<CXCursor> used = used_declarations(child);
        if (!used.empty() && clang_getCursorKind(used[0]) == CXCursor_Constructor) {
          visit_children(clang_getCursorSemanticParent(used[0]), [&](CXCursor member) {
            if (clang_getCursorKind(member) == CXCursor_Constructor) add_constructor(member, interface);
          });
        }
      }
    });
    if (!declares_constructor && default_constructible(cls) &&
        std::none_of(interface.constructors.begin(), interface.constructors.end(),
                     [](const model::Constructor& c) { return c.params.empty(); })) {
      interface.constructors.insert(interface.constructors.begin(), {{}, interface.location});
    }
    if (interface.constructors.empty()) {
      sink_.error(interface.location,
                  "'" + interface.qualified_name +
                      (declares_constructor ? "' has no public constructor"
                                            : "' declares no constructor and a base or member cannot be "
                                              "default-constructed") +
                      ", so a child cannot create it; declare a public constructor");
    }
    extract_methods(cls, interface, "", {});
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
