#include "parse/type_mapper.h"

#include <utility>

#include "parse/clang_handles.h"
#include "parse/cursors.h"

namespace procxy::parse {
namespace {

model::Type unsupported(std::string spelling, std::string reason) {
  model::Type type;
  type.kind = model::TypeKind::kUnsupported;
  type.spelling = std::move(spelling);
  type.reason = std::move(reason);
  return type;
}

model::Type scalar(model::TypeKind kind, std::string spelling, unsigned bits, bool is_signed) {
  model::Type type;
  type.kind = kind;
  type.spelling = std::move(spelling);
  type.bits = bits;
  type.is_signed = is_signed;
  return type;
}

// The builtin integer types by canonical kind: spelling and signedness.
bool integer_kind(CXTypeKind kind, const char** spelling, bool* is_signed) {
  switch (kind) {
    case CXType_Char_S:
      *spelling = "char";
      *is_signed = true;
      return true;
    case CXType_Char_U:
      *spelling = "char";
      *is_signed = false;
      return true;
    case CXType_SChar:
      *spelling = "signed char";
      *is_signed = true;
      return true;
    case CXType_UChar:
      *spelling = "unsigned char";
      *is_signed = false;
      return true;
    case CXType_Short:
      *spelling = "short";
      *is_signed = true;
      return true;
    case CXType_UShort:
      *spelling = "unsigned short";
      *is_signed = false;
      return true;
    case CXType_Int:
      *spelling = "int";
      *is_signed = true;
      return true;
    case CXType_UInt:
      *spelling = "unsigned int";
      *is_signed = false;
      return true;
    case CXType_Long:
      *spelling = "long";
      *is_signed = true;
      return true;
    case CXType_ULong:
      *spelling = "unsigned long";
      *is_signed = false;
      return true;
    case CXType_LongLong:
      *spelling = "long long";
      *is_signed = true;
      return true;
    case CXType_ULongLong:
      *spelling = "unsigned long long";
      *is_signed = false;
      return true;
    default:
      return false;
  }
}

unsigned bits_of(CXType type) { return static_cast<unsigned>(clang_Type_getSizeOf(type) * 8); }

std::string without_cv(std::string spelling) {
  for (const char* prefix : {"const ", "volatile "}) {
    if (spelling.rfind(prefix, 0) == 0) spelling.erase(0, std::string(prefix).size());
  }
  return spelling;
}

// Whether the scope of a declaration can be named from anywhere: namespaces
// and public members of classes that are not templates.
bool nameable(CXCursor decl) {
  for (CXCursor parent = clang_getCursorSemanticParent(decl);
       !clang_Cursor_isNull(parent) && parent.kind != CXCursor_TranslationUnit;
       parent = clang_getCursorSemanticParent(parent)) {
    if (parent.kind == CXCursor_Namespace) {
      if (clang_Cursor_isAnonymous(parent)) return false;
      continue;
    }
    if (parent.kind == CXCursor_LinkageSpec || parent.kind == CXCursor_UnexposedDecl) continue;  // extern "C" { }
    if ((parent.kind != CXCursor_ClassDecl && parent.kind != CXCursor_StructDecl) ||
        clang_Type_getNumTemplateArguments(clang_getCursorType(parent)) > 0) {
      return false;
    }
    if (clang_getCXXAccessSpecifier(decl) != CX_CXXPublic && decl.kind != CXCursor_Namespace) return false;
    decl = parent;
  }
  return true;
}

// The name a type was written with, when it is an alias that generated code
// can name too ("std::uint64_t", "::demo::Id"); else empty.
std::string alias_spelling(CXType type) {
  std::string written = without_cv(to_string(clang_getTypeSpelling(type)));
  if (type.kind == CXType_Elaborated) type = clang_Type_getNamedType(type);
  // std::uint64_t is the global uint64_t brought into std by a
  // using-declaration (a type libclang 14 does not expose): std's names are
  // written as the user wrote them.
  bool std_name = written.rfind("std::", 0) == 0 && written.find('<') == std::string::npos;
  if (std_name && (type.kind == CXType_Typedef || type.kind == CXType_Unexposed)) return written;
  if (type.kind != CXType_Typedef) return "";
  CXCursor decl = clang_getTypeDeclaration(type);
  if (!nameable(decl)) return "";
  std::string name = qualified_name(decl);
  return name.rfind("std::", 0) == 0 ? name : "::" + name;
}

// Any type, spelled so that it means the same in every scope: the user's
// records and enums from the global namespace ("::demo::KeyHash"), std's as
// "std::less<int>". For the template arguments procxy does not model.
std::string full_spelling(CXType type) {
  CXType canonical = clang_getCanonicalType(type);
  std::string fallback = to_string(clang_getTypeSpelling(canonical));
  if (canonical.kind != CXType_Record && canonical.kind != CXType_Enum) return fallback;
  std::string name = qualified_name(clang_getTypeDeclaration(canonical));
  if (name.rfind("std::", 0) != 0) name = "::" + name;
  int count = clang_Type_getNumTemplateArguments(canonical);
  if (count <= 0) return name;
  std::string out = name + "<";
  for (int i = 0; i < count; ++i) {
    CXType arg = clang_Type_getTemplateArgumentAsType(canonical, static_cast<unsigned>(i));
    if (arg.kind == CXType_Invalid) return fallback;  // a non-type argument
    out += (i ? ", " : "") + full_spelling(arg);
  }
  return out + ">";
}

constexpr const char* kNotNameable =
    "generated code cannot name a private or protected member type, nor one in an anonymous namespace or a class "
    "template; make it a public member or move it to a named namespace";

// Why a pointer cannot cross, with the type to use instead.
std::string pointer_advice(CXType pointer) {
  CXType pointee = clang_getCanonicalType(clang_getPointeeType(pointer));
  if (pointee.kind == CXType_Record && clang_Type_getSizeOf(pointee) < 0) {
    return "an opaque handle stays in the child: keep the object there and expose the methods that use it";
  }
  switch (pointee.kind) {
    case CXType_Char_S:
    case CXType_Char_U:
      return clang_isConstQualifiedType(pointee)
                 ? "use std::string, or std::string_view for a parameter"
                 : "use std::string, and return it instead of filling a buffer";
    case CXType_Pointer:
      return "out-parameters are not supported: return the value instead";
    case CXType_Void:
      return "pass the bytes as std::vector<std::byte>";
    case CXType_FunctionProto:
    case CXType_FunctionNoProto:
      return "use a PROCXY_EVENT to call back into the parent";
    default: {
      std::string value = without_cv(to_string(clang_getTypeSpelling(clang_getPointeeType(pointer))));
      return "pass the " + value + " itself, std::optional<" + value + "> if it may be absent, or std::vector<" +
             value + "> for several";
    }
  }
}

}  // namespace

model::Type TypeMapper::map_param(CXType type, model::PassBy& pass) {
  pass = model::PassBy::kValue;
  std::string written = to_string(clang_getTypeSpelling(type));
  if (type.kind == CXType_LValueReference) {
    CXType pointee = clang_getPointeeType(type);
    if (clang_getCanonicalType(pointee).kind == CXType_ConstantArray) {  // const int (&)[3]
      model::Type array = map(pointee);
      array.spelling = written;
      return array;
    }
    if (!clang_isConstQualifiedType(pointee)) {
      return unsupported(written, "out-parameters are not supported: return the value instead");
    }
    pass = model::PassBy::kConstRef;
    model::Type type = map(pointee);
    if (type.kind == model::TypeKind::kUnsupported) type.spelling = written;
    return type;
  }
  if (type.kind == CXType_RValueReference) {
    return unsupported(written, "take the parameter by value or const& instead");
  }
  return map(type);
}

model::Type TypeMapper::map(CXType type) {
  model::Type result = map_canonical(type);
  if (result.kind != model::TypeKind::kUnsupported) {
    std::string alias = alias_spelling(type);
    if (alias != result.spelling) result.written = alias;
  }
  return result;
}

model::Type TypeMapper::map_canonical(CXType type) {
  std::string written = to_string(clang_getTypeSpelling(type));
  CXType canonical = clang_getCanonicalType(type);
  const char* spelling = nullptr;
  bool is_signed = false;
  if (integer_kind(canonical.kind, &spelling, &is_signed)) {
    return scalar(model::TypeKind::kInt, spelling, bits_of(canonical), is_signed);
  }
  switch (canonical.kind) {
    case CXType_Void:
      return scalar(model::TypeKind::kVoid, "void", 0, false);
    case CXType_Bool:
      return scalar(model::TypeKind::kBool, "bool", 8, false);
    case CXType_Float:
      return scalar(model::TypeKind::kFloat, "float", 32, true);
    case CXType_Double:
      return scalar(model::TypeKind::kFloat, "double", 64, true);
    case CXType_Enum: {
      CXCursor decl = clang_getTypeDeclaration(canonical);
      CXType underlying = clang_getCanonicalType(clang_getEnumDeclIntegerType(decl));
      if (!integer_kind(underlying.kind, &spelling, &is_signed)) {
        return unsupported(written, "give the enum an integer underlying type, such as std::int32_t");
      }
      if (!clang_Cursor_isAnonymous(decl) && !nameable(decl)) return unsupported(written, kNotNameable);
      Naming naming;
      if (!this->naming(decl, naming)) return unsupported(written, "give the enum a name");
      model::Type result = scalar(model::TypeKind::kEnum, naming.spelling, bits_of(underlying), is_signed);
      result.name = naming.key;
      return result;
    }
    case CXType_Record:
      return map_record(canonical, written);
    case CXType_Pointer:
      return unsupported(written, pointer_advice(canonical));
    case CXType_BlockPointer:
    case CXType_MemberPointer:
      return unsupported(written, "use a PROCXY_EVENT to call back into the parent");
    case CXType_LValueReference:
    case CXType_RValueReference:
      return unsupported(written, "use the " + without_cv(to_string(clang_getTypeSpelling(clang_getPointeeType(canonical)))) + " itself");
    case CXType_ConstantArray: {
      std::string element = without_cv(to_string(clang_getTypeSpelling(clang_getArrayElementType(canonical))));
      return unsupported(written, "use std::array<" + element + ", " +
                                      std::to_string(clang_getArraySize(canonical)) + "> instead");
    }
    case CXType_IncompleteArray:
    case CXType_VariableArray:
    case CXType_DependentSizedArray:
      return unsupported(written, "use std::vector<" +
                                      without_cv(to_string(clang_getTypeSpelling(clang_getArrayElementType(canonical)))) +
                                      "> instead");
    case CXType_LongDouble:
      return unsupported(written, "use double instead");
    case CXType_WChar:
    case CXType_Char32:
      return unsupported(written, "use std::uint32_t, or char in a UTF-8 std::string for text");
    case CXType_Char16:
      return unsupported(written, "use std::uint16_t, or char in a UTF-8 std::string for text");
    case CXType_Int128:
    case CXType_UInt128:
      return unsupported(written, "use a std::pair<std::uint64_t, std::uint64_t> of its halves");
    case CXType_Complex:
      return unsupported(written, "use std::pair<double, double> of its real and imaginary parts");
    case CXType_NullPtr:
      return unsupported(written, "use std::monostate for a value that carries nothing");
    default:
      return unsupported(written, "see docs/types.md for the types that can");
  }
}

bool TypeMapper::naming(CXCursor decl, Naming& out) const {
  if (clang_Cursor_isAnonymous(decl)) {
    auto found = unnamed_.find(to_string(clang_getCursorUSR(decl)));
    if (found == unnamed_.end()) return false;
    out = found->second;
    return true;
  }
  // An unnamed type with a typedef name (typedef struct { ... } point_t;,
  // the C idiom) is named by the typedef; clang spells it so.
  out.key = to_string(clang_getCursorSpelling(decl)).empty()
                ? to_string(clang_getTypeSpelling(clang_getCanonicalType(clang_getCursorType(decl))))
                : qualified_name(decl);
  out.spelling = "::" + out.key;
  return true;
}

namespace {

model::Type composite(model::TypeKind kind, std::string spelling, std::vector<model::Type> args) {
  model::Type type;
  type.kind = kind;
  type.spelling = std::move(spelling);
  type.args = std::move(args);
  return type;
}

std::string join_spellings(const std::vector<model::Type>& types) {
  std::string out;
  for (size_t i = 0; i < types.size(); ++i) out += (i ? ", " : "") + types[i].spelling;
  return out;
}

// "std::array<int, 4>" -> 4: libclang 14 has no accessor for a non-type
// template argument, but the canonical spelling holds it.
unsigned long long array_count(const std::string& canonical_spelling) {
  size_t comma = canonical_spelling.rfind(',');
  return std::stoull(canonical_spelling.substr(comma + 1));
}

bool is_byte(CXType type) {
  CXType canonical = clang_getCanonicalType(type);
  if (canonical.kind == CXType_UChar) return true;
  return canonical.kind == CXType_Enum && qualified_name(clang_getTypeDeclaration(canonical)) == "std::byte";
}

// The template arguments of a standard container after the ones procxy
// models (a comparator, hash, equality or allocator), as ", X, Y" up to the
// last one that is not the default, so std::set<int> stays std::set<int> and
// std::set<int, std::greater<int>> keeps its comparator. `defaults` names the
// default of each, applied to argument `key`.
std::string extra_arguments(CXType canonical, int first, std::vector<std::string> defaults, int key) {
  auto arg_type = [&](int i) { return clang_Type_getTemplateArgumentAsType(canonical, static_cast<unsigned>(i)); };
  CXType key_type = clang_getCanonicalType(arg_type(key));
  int last = -1;
  for (int i = 0; i < static_cast<int>(defaults.size()); ++i) {
    CXType arg = clang_getCanonicalType(arg_type(first + i));
    std::string name = qualified_name(clang_getTypeDeclaration(arg));
    // Allocators of the default kind must be of the container's value type
    // (libstdc++ asserts it), so the name tells.
    bool is_default = name == defaults[static_cast<size_t>(i)] &&
                      (name == "std::allocator" ||
                       clang_equalTypes(clang_getCanonicalType(clang_Type_getTemplateArgumentAsType(arg, 0)), key_type));
    if (!is_default) last = i;
  }
  std::string out;
  for (int i = 0; i <= last; ++i) out += ", " + full_spelling(arg_type(first + i));
  return out;
}

// Advice for a standard type that does not cross: the type to use instead.
std::string std_advice(const std::string& name, const std::string& element, const std::string& second) {
  if (name == "std::span" || name == "std::list" || name == "std::forward_list" || name == "std::deque" ||
      name == "std::valarray" || name == "std::queue" || name == "std::stack" || name == "std::priority_queue" ||
      name == "std::multiset" || name == "std::unordered_multiset") {
    return "use std::vector<" + element + "> instead";
  }
  if (name == "std::multimap" || name == "std::unordered_multimap") {
    return "use std::vector<std::pair<" + element + ", " + second + ">> instead";
  }
  if (name == "std::function" || name == "std::move_only_function") {
    return "use a PROCXY_EVENT to call back into the parent";
  }
  if (name == "std::unique_ptr" || name == "std::shared_ptr" || name == "std::weak_ptr") {
    return "pass the " + element + " itself, or std::optional<" + element + "> if it may be empty";
  }
  if (name == "std::reference_wrapper" || name == "std::atomic") return "pass the " + element + " itself";
  if (name == "std::complex") return "use std::pair<" + element + ", " + element + "> of its real and imaginary parts";
  if (name == "std::any") return "use a std::variant of the types it may hold";
  if (name == "std::bitset") return "use std::vector<bool>, or an unsigned integer for at most 64 bits";
  if (name == "std::error_code") return "use an enum, or std::int32_t for its value()";
  return "use a struct with only public data members of the types docs/types.md lists";
}

}  // namespace

model::Type TypeMapper::map_record(CXType canonical, const std::string& written) {
  CXCursor decl = clang_getTypeDeclaration(canonical);
  if (clang_getCursorKind(decl) == CXCursor_UnionDecl) {
    return unsupported(written, "which member of a union is active is not known; use std::variant instead");
  }
  std::string name = qualified_name(decl);
  if (name.rfind("std::", 0) != 0) {
    if (clang_Type_getNumTemplateArguments(canonical) > 0) {
      return unsupported(written,
                         "class templates other than the standard ones of docs/types.md cannot; use a "
                         "struct with only public data members");
    }
    if (!clang_Cursor_isAnonymous(decl) && !nameable(decl)) return unsupported(written, kNotNameable);
    Naming naming;
    if (!this->naming(decl, naming)) return unsupported(written, "give the type a name");
    return map_aggregate(decl, naming.key, naming.spelling, written);
  }

  auto arg_type = [&](int i) { return clang_Type_getTemplateArgumentAsType(canonical, static_cast<unsigned>(i)); };
  // The template arguments as model types; nullopt (and `problem` set) when
  // one of them cannot cross.
  std::string problem;
  auto args = [&](int count) {
    std::vector<model::Type> types;
    for (int i = 0; i < count && problem.empty(); ++i) {
      model::Type type = map(arg_type(i));
      if (type.kind == model::TypeKind::kUnsupported) {
        problem = "element type '" + type.spelling + "': " + type.reason;
      } else if (type.kind == model::TypeKind::kStringView) {
        problem = "use std::string instead of std::string_view inside other types";
      } else if (type.kind == model::TypeKind::kVoid) {
        problem = "void cannot be an element";
      }
      types.push_back(std::move(type));
    }
    return types;
  };
  int template_args = clang_Type_getNumTemplateArguments(canonical);
  // An argument as advice names it: as procxy spells it when it can cross.
  auto arg_spelling = [&](int i) {
    if (i >= template_args) return std::string("T");
    model::Type type = map(arg_type(i));
    return type.kind == model::TypeKind::kUnsupported ? without_cv(to_string(clang_getTypeSpelling(arg_type(i))))
                                                      : type.as_written();
  };

  model::Type result;
  if (name == "std::basic_string" || name == "std::basic_string_view") {
    CXType character = clang_getCanonicalType(arg_type(0));
    if (character.kind != CXType_Char_S && character.kind != CXType_Char_U) {
      return unsupported(written, "use std::string, holding UTF-8, instead");
    }
    bool view = name == "std::basic_string_view";
    std::string extras = view ? extra_arguments(canonical, 1, {"std::char_traits"}, 0)
                              : extra_arguments(canonical, 1, {"std::char_traits", "std::allocator"}, 0);
    std::string spelling = extras.empty() ? (view ? "std::string_view" : "std::string") : name + "<char" + extras + ">";
    result = composite(view ? model::TypeKind::kStringView : model::TypeKind::kString, spelling, {});
  } else if (name == "std::vector" && is_byte(arg_type(0))) {
    std::string element = clang_getCanonicalType(arg_type(0)).kind == CXType_UChar ? "unsigned char" : "std::byte";
    result = composite(model::TypeKind::kBytes,
                       "std::vector<" + element + extra_arguments(canonical, 1, {"std::allocator"}, 0) + ">", {});
  } else if (name == "std::vector" || name == "std::set" || name == "std::unordered_set" || name == "std::optional") {
    auto element = args(1);
    model::TypeKind kind = name == "std::vector"     ? model::TypeKind::kVector
                           : name == "std::set"      ? model::TypeKind::kSet
                           : name == "std::optional" ? model::TypeKind::kOptional
                                                     : model::TypeKind::kUnorderedSet;
    std::string extras = kind == model::TypeKind::kVector ? extra_arguments(canonical, 1, {"std::allocator"}, 0)
                         : kind == model::TypeKind::kSet
                             ? extra_arguments(canonical, 1, {"std::less", "std::allocator"}, 0)
                         : kind == model::TypeKind::kUnorderedSet
                             ? extra_arguments(canonical, 1, {"std::hash", "std::equal_to", "std::allocator"}, 0)
                             : "";
    result = composite(kind, name + "<" + join_spellings(element) + extras + ">", element);
  } else if (name == "std::array") {
    auto element = args(1);
    result = composite(model::TypeKind::kArray, "", element);
    result.count = array_count(to_string(clang_getTypeSpelling(canonical)));
    result.spelling = "std::array<" + join_spellings(element) + ", " + std::to_string(result.count) + ">";
  } else if (name == "std::map" || name == "std::unordered_map") {
    auto key_value = args(2);
    std::string extras = name == "std::map"
                             ? extra_arguments(canonical, 2, {"std::less", "std::allocator"}, 0)
                             : extra_arguments(canonical, 2, {"std::hash", "std::equal_to", "std::allocator"}, 0);
    result = composite(name == "std::map" ? model::TypeKind::kMap : model::TypeKind::kUnorderedMap,
                       name + "<" + join_spellings(key_value) + extras + ">", key_value);
  } else if (name == "std::pair" || name == "std::tuple" || name == "std::variant") {
    auto elements = args(template_args);
    model::TypeKind kind = name == "std::pair"    ? model::TypeKind::kPair
                           : name == "std::tuple" ? model::TypeKind::kTuple
                                                  : model::TypeKind::kVariant;
    if (kind == model::TypeKind::kVariant && problem.empty() && elements.size() < 2) {
      return unsupported(written, "a std::variant needs at least two alternatives to cross; use the one type itself");
    }
    result = composite(kind, name + "<" + join_spellings(elements) + ">", elements);
  } else if (name == "std::monostate") {
    result = composite(model::TypeKind::kMonostate, "std::monostate", {});
  } else if (name == "std::chrono::duration") {
    auto rep = args(1);
    if (problem.empty() && rep[0].kind != model::TypeKind::kInt && rep[0].kind != model::TypeKind::kFloat) {
      problem = "a duration needs an arithmetic representation, such as std::int64_t";
    }
    std::string period = to_string(clang_getTypeSpelling(clang_getCanonicalType(arg_type(1))));
    result = composite(model::TypeKind::kDuration, "std::chrono::duration<" + join_spellings(rep) + ", " + period + ">",
                       rep);
    result.name = period;
  } else if (name == "std::chrono::time_point") {
    std::string clock = qualified_name(clang_getTypeDeclaration(clang_getCanonicalType(arg_type(0))));
    if (clock != "std::chrono::system_clock") {
      return unsupported(written,
                         "only std::chrono::system_clock time points cross; convert to std::chrono::system_clock::time_point");
    }
    model::Type duration = map(arg_type(1));
    if (duration.kind != model::TypeKind::kDuration) return unsupported(written, duration.reason);
    result = composite(model::TypeKind::kTimePoint,
                       "std::chrono::time_point<std::chrono::system_clock, " + duration.spelling + ">", {duration});
  } else if (name == "std::filesystem::path") {
    result = composite(model::TypeKind::kPath, "std::filesystem::path", {});
  } else {
    return unsupported(written, std_advice(name, arg_spelling(0), arg_spelling(1)));
  }
  if (!problem.empty()) return unsupported(written, problem);
  return result;
}

model::Type TypeMapper::map_aggregate(CXCursor decl, const std::string& name, const std::string& spelling,
                                      const std::string& written) {
  model::Type result;
  result.kind = model::TypeKind::kStruct;
  result.name = name;
  result.spelling = spelling;
  if (mapped_.count(name)) return result;
  if (in_progress_.count(name)) {
    return unsupported(written, "recursive aggregates cannot be sent; flatten the structure");
  }
  CXCursor definition = clang_getCursorDefinition(decl);
  if (clang_Cursor_isNull(definition)) {
    return unsupported(written, "the type is incomplete; include its definition");
  }
  if (clang_getCursorKind(definition) == CXCursor_ClassTemplate ||
      clang_Type_getNumTemplateArguments(clang_getCursorType(definition)) > 0) {
    return unsupported(written, "use a struct with only public data members");
  }

  in_progress_.insert(name);
  model::Struct aggregate;
  aggregate.qualified_name = name;
  aggregate.spelling = spelling;
  aggregate.location = location_of(definition);
  std::string problem;
  visit_children(definition, [&](CXCursor child) {
    if (!problem.empty()) return;
    switch (clang_getCursorKind(child)) {
      case CXCursor_FieldDecl: {
        std::string field = to_string(clang_getCursorSpelling(child));
        if (clang_getCXXAccessSpecifier(child) != CX_CXXPublic) {
          problem = "it has private state (field '" + field + "'); use a struct with only public data members";
          return;
        }
        // A member of an unnamed type (struct { int x, y; } pos;) is named
        // after the member.
        CXCursor field_decl = clang_getTypeDeclaration(clang_getCanonicalType(clang_getCursorType(child)));
        if (clang_Cursor_isAnonymous(field_decl)) {
          unnamed_[to_string(clang_getCursorUSR(field_decl))] = {name + "::" + field,
                                                                 "decltype(" + spelling + "::" + field + ")"};
        }
        model::Type type = map(clang_getCursorType(child));
        if (type.kind == model::TypeKind::kUnsupported) {
          problem = "field '" + field + "' of type '" + type.spelling + "': " + type.reason;
          return;
        }
        if (type.kind == model::TypeKind::kStringView) {
          problem = "field '" + field + "' is a std::string_view, which would dangle; use std::string";
          return;
        }
        aggregate.fields.push_back({field, std::move(type), location_of(child)});
        return;
      }
      case CXCursor_CXXBaseSpecifier:
        problem = "it has a base class; use a struct with only public data members (the base's as a member)";
        return;
      case CXCursor_StructDecl:
      case CXCursor_UnionDecl:
      case CXCursor_ClassDecl:
        if (clang_Cursor_isAnonymousRecordDecl(child)) {
          problem = "it has an anonymous struct or union member; give the member a name";
        }
        return;
      case CXCursor_Constructor:
        problem = "it has a user-declared constructor; use a struct with only public data members";
        return;
      case CXCursor_CXXMethod:
        if (clang_CXXMethod_isVirtual(child)) {
          problem = "it has virtual methods; use a struct with only public data members";
        }
        return;
      default:
        return;
    }
  });
  in_progress_.erase(name);
  if (!problem.empty()) return unsupported(written, problem);

  mapped_.insert(name);
  module_.structs.push_back(std::move(aggregate));
  return result;
}

}  // namespace procxy::parse
