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

}  // namespace

model::Type TypeMapper::map_param(CXType type, model::PassBy& pass) {
  pass = model::PassBy::kValue;
  std::string written = to_string(clang_getTypeSpelling(type));
  if (type.kind == CXType_LValueReference) {
    CXType pointee = clang_getPointeeType(type);
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
        return unsupported(written, "give the enum an integer underlying type");
      }
      model::Type result = scalar(model::TypeKind::kEnum, "", bits_of(underlying), is_signed);
      result.name = qualified_name(decl);
      result.spelling = "::" + result.name;
      return result;
    }
    case CXType_Record:
      return map_record(canonical, written);
    case CXType_Pointer:
    case CXType_BlockPointer:
    case CXType_MemberPointer:
      return unsupported(written, "pass the value itself, or a std::vector for several");
    case CXType_LValueReference:
    case CXType_RValueReference:
      return unsupported(written, "return the value itself");
    case CXType_ConstantArray:
    case CXType_IncompleteArray:
    case CXType_VariableArray:
    case CXType_DependentSizedArray:
      return unsupported(written, "use std::vector instead");
    case CXType_LongDouble:
      return unsupported(written, "use double instead");
    default:
      return unsupported(written, "see docs/types.md for the types that can");
  }
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

}  // namespace

model::Type TypeMapper::map_record(CXType canonical, const std::string& written) {
  CXCursor decl = clang_getTypeDeclaration(canonical);
  std::string name = qualified_name(decl);
  if (name.rfind("std::", 0) != 0) {
    if (clang_Type_getNumTemplateArguments(canonical) > 0) {
      return unsupported(written,
                         "class templates other than the standard ones of docs/types.md cannot; use a "
                         "struct with only public data members");
    }
    return map_aggregate(decl, name, written);
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

  model::Type result;
  if (name == "std::basic_string" || name == "std::basic_string_view") {
    CXType character = clang_getCanonicalType(arg_type(0));
    if (character.kind != CXType_Char_S && character.kind != CXType_Char_U) {
      return unsupported(written, "use std::string instead");
    }
    bool view = name == "std::basic_string_view";
    result = composite(view ? model::TypeKind::kStringView : model::TypeKind::kString,
                       view ? "std::string_view" : "std::string", {});
  } else if (name == "std::vector" && is_byte(arg_type(0))) {
    std::string element = clang_getCanonicalType(arg_type(0)).kind == CXType_UChar ? "unsigned char" : "std::byte";
    result = composite(model::TypeKind::kBytes, "std::vector<" + element + ">", {});
  } else if (name == "std::vector" || name == "std::set" || name == "std::unordered_set" || name == "std::optional") {
    auto element = args(1);
    model::TypeKind kind = name == "std::vector"     ? model::TypeKind::kVector
                           : name == "std::set"      ? model::TypeKind::kSet
                           : name == "std::optional" ? model::TypeKind::kOptional
                                                     : model::TypeKind::kUnorderedSet;
    result = composite(kind, name + "<" + join_spellings(element) + ">", element);
  } else if (name == "std::array") {
    auto element = args(1);
    result = composite(model::TypeKind::kArray, "", element);
    result.count = array_count(to_string(clang_getTypeSpelling(canonical)));
    result.spelling = "std::array<" + join_spellings(element) + ", " + std::to_string(result.count) + ">";
  } else if (name == "std::map" || name == "std::unordered_map") {
    auto key_value = args(2);
    result = composite(name == "std::map" ? model::TypeKind::kMap : model::TypeKind::kUnorderedMap,
                       name + "<" + join_spellings(key_value) + ">", key_value);
  } else if (name == "std::pair" || name == "std::tuple" || name == "std::variant") {
    auto elements = args(template_args);
    model::TypeKind kind = name == "std::pair"    ? model::TypeKind::kPair
                           : name == "std::tuple" ? model::TypeKind::kTuple
                                                  : model::TypeKind::kVariant;
    if (kind == model::TypeKind::kVariant && elements.size() < 2) {
      return unsupported(written, "a std::variant needs at least two alternatives to cross");
    }
    result = composite(kind, name + "<" + join_spellings(elements) + ">", elements);
  } else if (name == "std::chrono::duration") {
    auto rep = args(1);
    if (problem.empty() && rep[0].kind != model::TypeKind::kInt && rep[0].kind != model::TypeKind::kFloat) {
      problem = "a duration needs an arithmetic representation";
    }
    std::string period = to_string(clang_getTypeSpelling(clang_getCanonicalType(arg_type(1))));
    result = composite(model::TypeKind::kDuration, "std::chrono::duration<" + join_spellings(rep) + ", " + period + ">",
                       rep);
    result.name = period;
  } else if (name == "std::chrono::time_point") {
    std::string clock = qualified_name(clang_getTypeDeclaration(clang_getCanonicalType(arg_type(0))));
    if (clock != "std::chrono::system_clock") {
      return unsupported(written, "only std::chrono::system_clock time points cross; convert to system_clock");
    }
    model::Type duration = map(arg_type(1));
    if (duration.kind != model::TypeKind::kDuration) return unsupported(written, duration.reason);
    result = composite(model::TypeKind::kTimePoint,
                       "std::chrono::time_point<std::chrono::system_clock, " + duration.spelling + ">", {duration});
  } else if (name == "std::filesystem::path") {
    result = composite(model::TypeKind::kPath, "std::filesystem::path", {});
  } else if (name == "std::function") {
    return unsupported(written, "use a PROCXY_EVENT to call back into the parent");
  } else if (name == "std::unique_ptr" || name == "std::shared_ptr" || name == "std::weak_ptr") {
    return unsupported(written, "pass the pointed-to value itself");
  } else {
    return unsupported(written, "see docs/types.md for the standard types that can");
  }
  if (!problem.empty()) return unsupported(written, problem);
  return result;
}

model::Type TypeMapper::map_aggregate(CXCursor decl, const std::string& name, const std::string& written) {
  model::Type result;
  result.kind = model::TypeKind::kStruct;
  result.name = name;
  result.spelling = "::" + name;
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
        problem = "it has a base class; use a struct with only public data members";
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
