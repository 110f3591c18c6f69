#include "emit/schema.h"

#include <cctype>
#include <stdexcept>

namespace procxy::emit {
namespace {

bool is_scalar(const model::Type& type) {
  return type.kind == model::TypeKind::kBool || type.kind == model::TypeKind::kInt ||
         type.kind == model::TypeKind::kFloat || type.kind == model::TypeKind::kEnum ||
         type.kind == model::TypeKind::kDuration || type.kind == model::TypeKind::kTimePoint ||
         type.kind == model::TypeKind::kMonostate;
}

// A map travels as a list of pairs.
std::string pair_spelling(const model::Type& map) {
  return "std::pair<" + map.args.at(0).spelling + ", " + map.args.at(1).spelling + ">";
}

}  // namespace

std::string arg_name(size_t index) { return "arg" + std::to_string(index); }

std::string setter(const std::string& field, const model::Type& type) {
  return (is_scalar(type) ? "set" : "adopt") + capitalize(field);
}

Schema::Schema(const model::Module& module) {
  for (const model::Struct& s : module.structs) struct_names_[s.qualified_name] = names_.unique(camel(s.qualified_name));
  for (const model::Struct& s : module.structs) {
    for (const model::Field& f : s.fields) declare_composites(f.type);
  }
  for (const model::Interface& interface : module.interfaces) {
    for (const model::Constructor& c : interface.constructors) {
      for (const model::Param& p : c.params) declare_composites(p.type);
    }
    for (const model::Method& m : interface.methods) {
      declare_composites(m.result);
      for (const model::Param& p : m.params) declare_composites(p.type);
    }
  }
  for (const model::Struct& s : module.structs) records_.push_back(aggregate(s));
}

std::string Schema::wire_type(const model::Type& type) const {
  switch (type.kind) {
    case model::TypeKind::kBool:
      return "Bool";
    case model::TypeKind::kInt:
    case model::TypeKind::kEnum:
      return std::string(type.is_signed ? "Int" : "UInt") + std::to_string(type.bits);
    case model::TypeKind::kFloat:
      return "Float" + std::to_string(type.bits);
    case model::TypeKind::kString:
      return "Text";
    case model::TypeKind::kVector:
      return "List(" + wire_type(type.args.at(0)) + ")";
    case model::TypeKind::kStruct:
      return struct_names_.at(type.name);
    case model::TypeKind::kArray:
    case model::TypeKind::kSet:
    case model::TypeKind::kUnorderedSet:
    case model::TypeKind::kOptional:  // zero or one element
      return "List(" + wire_type(type.args.at(0)) + ")";
    case model::TypeKind::kMap:
    case model::TypeKind::kUnorderedMap:
      return "List(" + composite_names_.at(pair_spelling(type)) + ")";
    case model::TypeKind::kPair:
    case model::TypeKind::kTuple:
    case model::TypeKind::kVariant:
      return composite_names_.at(type.spelling);
    case model::TypeKind::kBytes:
      return "Data";
    case model::TypeKind::kDuration:
      return type.args.at(0).kind == model::TypeKind::kFloat ? "Float64"
             : type.args.at(0).is_signed                     ? "Int64"
                                                             : "UInt64";
    case model::TypeKind::kTimePoint:
      return wire_type(type.args.at(0));
    case model::TypeKind::kPath:
    case model::TypeKind::kStringView:
      return "Text";
    case model::TypeKind::kMonostate:
      return "Void";
    case model::TypeKind::kVoid:
    case model::TypeKind::kUnsupported:
      break;
  }
  throw std::logic_error("procxy-gen: no wire type for " + type.spelling);
}

Context Schema::field(const std::string& wire_name, unsigned index, const model::Type& type,
                      const std::string& comment) const {
  Context f;
  f.set("wire_name", wire_name);
  f.set("index", std::to_string(index));
  f.set("wire_type", wire_type(type));
  f.set("comment", comment);
  f.set("setter", setter(wire_name, type));
  f.set("getter", "get" + capitalize(wire_name));
  f.set("cpp_type", type.spelling);
  return f;
}

void Schema::add_struct(const std::string& name, const std::string& comment, const Context& fields, bool is_union) {
  Context s;
  s.set("name", name);
  s.set("comment", comment);
  s.set("fields", fields);
  s.set("is_union", is_union);
  structs_.push_back(s);
}

Context Schema::add_params_struct(const std::string& name, const std::string& comment,
                                  const std::vector<model::Param>& params) {
  Context fields{Context::type::list};
  for (size_t i = 0; i < params.size(); ++i) {
    fields.push_back(field(arg_name(i), static_cast<unsigned>(i), params[i].type,
                           params[i].name.empty() ? arg_name(i) : params[i].name));
  }
  add_struct(name, comment, fields);
  return fields;
}

// Gives every pair, tuple and variant in `type` (elements first) a schema
// struct and generated write_fields/read_fields.
void Schema::declare_composites(const model::Type& type) {
  for (const model::Type& arg : type.args) declare_composites(arg);
  switch (type.kind) {
    case model::TypeKind::kMap:
    case model::TypeKind::kUnorderedMap: {
      model::Type pair;
      pair.kind = model::TypeKind::kPair;
      pair.spelling = pair_spelling(type);
      pair.args = type.args;
      declare_composites(pair);
      return;
    }
    case model::TypeKind::kPair:
    case model::TypeKind::kTuple:
      if (!composite_names_.count(type.spelling)) declare_record(type);
      return;
    case model::TypeKind::kVariant:
      if (!composite_names_.count(type.spelling)) declare_variant(type);
      return;
    default:
      return;
  }
}

void Schema::declare_record(const model::Type& type) {
  bool pair = type.kind == model::TypeKind::kPair;
  std::string name = names_.unique(pair ? "Pair" : "Tuple");
  composite_names_[type.spelling] = name;
  Context fields{Context::type::list};
  for (size_t i = 0; i < type.args.size(); ++i) {
    std::string member = pair ? (i == 0 ? "first" : "second") : "element" + std::to_string(i);
    Context f = field(member, static_cast<unsigned>(i), type.args[i], member);
    f.set("member_expr", pair ? "value." + member : "std::get<" + std::to_string(i) + ">(value)");
    fields.push_back(f);
  }
  add_struct(name, type.spelling, fields);
  Context view;
  view.set("struct_name", name);
  // A map's elements are std::pair<const K, V>: write any pair-like value.
  view.set("write_type", pair ? "auto" : type.spelling);
  view.set("read_type", type.spelling);
  view.set("fields", fields);
  view.set("empty", type.args.empty());
  records_.push_back(view);
}

void Schema::declare_variant(const model::Type& type) {
  std::string name = names_.unique("Variant");
  composite_names_[type.spelling] = name;
  Context alternatives{Context::type::list};
  for (size_t i = 0; i < type.args.size(); ++i) {
    std::string member = "alt" + std::to_string(i);
    Context f = field(member, static_cast<unsigned>(i), type.args[i], type.args[i].spelling);
    f.set("alternative", std::to_string(i));
    std::string which = member;
    for (char& c : which) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    f.set("which", which);
    alternatives.push_back(f);
  }
  add_struct(name, type.spelling, alternatives, true);
  Context view;
  view.set("struct_name", name);
  view.set("cpp_name", type.spelling);
  view.set("alternatives", alternatives);
  variants_.push_back(view);
}

Context Schema::aggregate(const model::Struct& s) {
  std::string name = struct_names_.at(s.qualified_name);
  Context fields{Context::type::list};
  for (size_t i = 0; i < s.fields.size(); ++i) {
    const model::Field& member = s.fields[i];
    Context f = field("field" + std::to_string(i), static_cast<unsigned>(i), member.type, member.name);
    f.set("member_expr", "value." + member.name);
    fields.push_back(f);
  }
  add_struct(name, s.qualified_name, fields);
  Context view;
  view.set("struct_name", name);
  view.set("write_type", s.spelling);
  view.set("read_type", s.spelling);
  view.set("fields", fields);
  view.set("empty", s.fields.empty());
  return view;
}

}  // namespace procxy::emit
