#include "model/dump.h"

#include <sstream>

namespace procxy::model {
namespace {

const char* kind_name(MethodKind kind) {
  switch (kind) {
    case MethodKind::kMutation:
      return "method";
    case MethodKind::kQuery:
      return "query";
    case MethodKind::kEvent:
      return "event";
  }
  return "?";
}

void dump_params(std::ostringstream& out, const std::vector<Param>& params) {
  out << '(';
  for (size_t i = 0; i < params.size(); ++i) {
    const Param& p = params[i];
    if (i) out << ", ";
    out << dump(p.type) << (p.pass == PassBy::kConstRef ? " const&" : "");
    if (!p.name.empty()) out << ' ' << p.name;
    if (p.has_default) out << " = default";
  }
  out << ')';
}

std::string dump_list(const std::vector<Type>& types) {
  std::string out;
  for (size_t i = 0; i < types.size(); ++i) out += (i ? ", " : "") + dump(types[i]);
  return out;
}

}  // namespace

std::string dump(const Type& type) {
  switch (type.kind) {
    case TypeKind::kVoid:
      return "void";
    case TypeKind::kBool:
      return "bool";
    case TypeKind::kInt:
      return (type.is_signed ? "int" : "uint") + std::to_string(type.bits) + "{" + type.spelling + "}";
    case TypeKind::kFloat:
      return "float" + std::to_string(type.bits);
    case TypeKind::kEnum:
      return "enum " + type.name + ":" + (type.is_signed ? "int" : "uint") + std::to_string(type.bits);
    case TypeKind::kString:
      return "string";
    case TypeKind::kVector:
      return "vector<" + dump(type.args.at(0)) + ">";
    case TypeKind::kStruct:
      return "struct " + type.name;
    case TypeKind::kArray:
      return "array<" + dump(type.args.at(0)) + ", " + std::to_string(type.count) + ">";
    case TypeKind::kSet:
      return "set<" + dump(type.args.at(0)) + ">";
    case TypeKind::kUnorderedSet:
      return "unordered_set<" + dump(type.args.at(0)) + ">";
    case TypeKind::kMap:
      return "map<" + dump_list(type.args) + ">";
    case TypeKind::kUnorderedMap:
      return "unordered_map<" + dump_list(type.args) + ">";
    case TypeKind::kOptional:
      return "optional<" + dump(type.args.at(0)) + ">";
    case TypeKind::kVariant:
      return "variant<" + dump_list(type.args) + ">";
    case TypeKind::kPair:
      return "pair<" + dump_list(type.args) + ">";
    case TypeKind::kTuple:
      return "tuple<" + dump_list(type.args) + ">";
    case TypeKind::kBytes:
      return "bytes";
    case TypeKind::kDuration:
      return "duration<" + dump(type.args.at(0)) + ", " + type.name + ">";
    case TypeKind::kTimePoint:
      return "time_point<" + dump(type.args.at(0)) + ">";
    case TypeKind::kPath:
      return "path";
    case TypeKind::kStringView:
      return "string_view";
    case TypeKind::kMonostate:
      return "monostate";
    case TypeKind::kUnsupported:
      return "unsupported{" + type.spelling + "}";
  }
  return "?";
}

std::string dump(const Interface& interface) {
  std::ostringstream out;
  out << "interface " << interface.qualified_name << '\n';
  for (const Constructor& c : interface.constructors) {
    out << "  constructor";
    dump_params(out, c.params);
    out << '\n';
  }
  for (const Method& m : interface.methods) {
    out << "  " << kind_name(m.kind) << ' ' << dump(m.result) << ' ' << m.name;
    dump_params(out, m.params);
    if (m.is_const) out << " const";
    if (m.is_noexcept) out << " noexcept";
    if (m.cache_ms) out << " cache=" << m.cache_ms << "ms";
    out << '\n';
  }
  return out.str();
}

std::string dump(const Module& module) {
  std::ostringstream out;
  out << "module " << module.header << '\n';
  for (const Struct& s : module.structs) {
    out << "struct " << s.qualified_name << '\n';
    for (const Field& f : s.fields) out << "  " << dump(f.type) << ' ' << f.name << '\n';
  }
  for (const Interface& i : module.interfaces) out << dump(i);
  return out.str();
}

}  // namespace procxy::model
