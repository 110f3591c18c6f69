#include "emit/view.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

#include "model/interface_hash.h"
#include "procxy/version.h"

namespace procxy::emit {
namespace {

using kainjow::mustache::data;

std::string hex(std::uint64_t value) {
  char text[32];
  std::snprintf(text, sizeof text, "0x%016llx", static_cast<unsigned long long>(value));
  return text;
}

// "slow_square" -> "SlowSquare", "demo::Point" -> "DemoPoint": Cap'n Proto
// type names are UpperCamelCase ASCII letters and digits. A byte outside
// ASCII (an identifier's UTF-8) is written as X and its hex value, so
// "Café" -> "CafXC3XA9": deterministic, and the same name twice is still
// made unique by Names.
std::string camel(const std::string& name) {
  std::string out;
  bool upper = true;
  for (char c : name) {
    unsigned char byte = static_cast<unsigned char>(c);
    if (c == '_' || c == ':') {
      upper = true;
      continue;
    }
    if (byte >= 0x80) {
      char hex[4];
      std::snprintf(hex, sizeof hex, "X%02X", byte);
      out += hex;
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(byte)) : c;
    upper = false;
  }
  return out;
}

std::string capitalize(std::string name) {
  name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
  return name;
}

// Hands out schema names that are unique within one .capnp file and do not
// shadow Cap'n Proto's own (a user struct named Data must not become `Data`).
class Names {
 public:
  Names()
      : used_{"Void",   "Bool",       "Int8",      "Int16",   "Int32",      "Int64", "UInt8",
              "UInt16", "UInt32",     "UInt64",    "Float32", "Float64",    "Text",  "Data",
              "List",   "AnyPointer", "AnyStruct", "AnyList", "Capability", "Cxx"} {}

  std::string unique(const std::string& wanted) {
    std::string name = wanted;
    for (int i = 2; !used_.insert(name).second; ++i) name = wanted + std::to_string(i);
    return name;
  }

 private:
  std::set<std::string> used_;
};

class ViewBuilder {
 public:
  explicit ViewBuilder(const model::Module& module) : module_(module) {}

  Context build() {
    std::string stem = stem_of(module_.header);
    Context context;
    context.set("version", PROCXY_VERSION_STRING);
    context.set("version_number", std::to_string(PROCXY_VERSION));
    context.set("header", std::filesystem::path(module_.header).filename().string());
    context.set("stem", stem);
    context.set("schema_namespace", schema_namespace_ = "procxy_schema::" + identifier(stem));
    std::string id_source = stem;
    for (const model::Interface& interface : module_.interfaces) id_source += ";" + interface.qualified_name;
    context.set("file_id", hex(model::fnv1a(id_source) | (1ULL << 63)));

    for (const model::Struct& s : module_.structs) {
      struct_names_[s.qualified_name] = names_.unique(camel(s.qualified_name));
    }
    declare_composites_of();
    for (const model::Struct& s : module_.structs) records_.push_back(aggregate(s));
    context.set("records", records_);
    context.set("variants", variants_);
    context.set("has_composites", !records_.list_value().empty() || !variants_.list_value().empty());

    data interfaces{data::type::list};
    for (const model::Interface& interface : module_.interfaces) interfaces.push_back(this->interface(interface));
    context.set("interfaces", interfaces);
    context.set("schema_structs", schema_structs_);
    return context;
  }

 private:
  static std::string identifier(const std::string& text) {
    std::string out;
    for (char c : text) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "_" + out;
    return out;
  }

  std::string wire_type(const model::Type& type) const {
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

  static bool is_scalar(const model::Type& type) {
    return type.kind == model::TypeKind::kBool || type.kind == model::TypeKind::kInt ||
           type.kind == model::TypeKind::kFloat || type.kind == model::TypeKind::kEnum ||
           type.kind == model::TypeKind::kDuration || type.kind == model::TypeKind::kTimePoint ||
           type.kind == model::TypeKind::kMonostate;
  }

  // The C++ type a parameter is decoded as in the child: a std::string_view
  // parameter is backed by a std::string that lives through the call.
  static std::string decoded_spelling(const model::Type& type) {
    return type.kind == model::TypeKind::kStringView ? "std::string" : type.spelling;
  }

  // A map travels as a list of pairs.
  static std::string pair_spelling(const model::Type& map) {
    return "std::pair<" + map.args.at(0).spelling + ", " + map.args.at(1).spelling + ">";
  }

  // Gives every pair, tuple and variant in `type` (elements first) a schema
  // struct and generated write_fields/read_fields.
  void declare_composites(const model::Type& type) {
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

  void declare_record(const model::Type& type) {
    bool pair = type.kind == model::TypeKind::kPair;
    std::string name = names_.unique(pair ? "Pair" : "Tuple");
    composite_names_[type.spelling] = name;
    data fields{data::type::list};
    for (size_t i = 0; i < type.args.size(); ++i) {
      std::string member = pair ? (i == 0 ? "first" : "second") : "element" + std::to_string(i);
      data f = field(member, static_cast<unsigned>(i), type.args[i], member, wire_type(type.args[i]));
      f.set("member_expr", pair ? "value." + member : "std::get<" + std::to_string(i) + ">(value)");
      fields.push_back(f);
    }
    add_schema_struct(name, type.spelling, fields, false);
    data view;
    view.set("struct_name", name);
    // A map's elements are std::pair<const K, V>: write any pair-like value.
    view.set("write_type", pair ? "auto" : type.spelling);
    view.set("read_type", type.spelling);
    view.set("fields", fields);
    view.set("empty", type.args.empty());
    records_.push_back(view);
  }

  void declare_variant(const model::Type& type) {
    std::string name = names_.unique("Variant");
    composite_names_[type.spelling] = name;
    data alternatives{data::type::list};
    for (size_t i = 0; i < type.args.size(); ++i) {
      std::string member = "alt" + std::to_string(i);
      data f = field(member, static_cast<unsigned>(i), type.args[i], type.args[i].spelling, wire_type(type.args[i]));
      f.set("alternative", std::to_string(i));
      std::string which = member;
      for (char& c : which) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      f.set("which", which);
      alternatives.push_back(f);
    }
    add_schema_struct(name, type.spelling, alternatives, true);
    data view;
    view.set("struct_name", name);
    view.set("cpp_name", type.spelling);
    view.set("alternatives", alternatives);
    variants_.push_back(view);
  }

  void declare_composites_of() {
    for (const model::Struct& s : module_.structs) {
      for (const model::Field& f : s.fields) declare_composites(f.type);
    }
    for (const model::Interface& interface : module_.interfaces) {
      for (const model::Constructor& c : interface.constructors) {
        for (const model::Param& p : c.params) declare_composites(p.type);
      }
      for (const model::Method& m : interface.methods) {
        declare_composites(m.result);
        for (const model::Param& p : m.params) declare_composites(p.type);
      }
    }
  }

  // put(builder, &Builder::<setter>, value): set for scalars, adopt otherwise.
  static std::string setter(const std::string& field, const model::Type& type) {
    return (is_scalar(type) ? "set" : "adopt") + capitalize(field);
  }

  // A schema struct: its name, a comment, and its fields.
  void add_schema_struct(const std::string& name, const std::string& comment, data fields, bool is_union = false) {
    data s;
    s.set("name", name);
    s.set("comment", comment);
    s.set("fields", fields);
    s.set("is_union", is_union);
    schema_structs_.push_back(s);
  }

  static data field(const std::string& wire_name, unsigned index, const model::Type& type, const std::string& comment,
                    const std::string& wire_type) {
    data f;
    f.set("wire_name", wire_name);
    f.set("index", std::to_string(index));
    f.set("wire_type", wire_type);
    f.set("comment", comment);
    f.set("setter", setter(wire_name, type));
    f.set("getter", "get" + capitalize(wire_name));
    f.set("cpp_type", type.spelling);
    return f;
  }

  data aggregate(const model::Struct& s) {
    std::string name = struct_names_.at(s.qualified_name);
    data fields{data::type::list};
    for (size_t i = 0; i < s.fields.size(); ++i) {
      const model::Field& member = s.fields[i];
      data f = field("field" + std::to_string(i), static_cast<unsigned>(i), member.type, member.name,
                     wire_type(member.type));
      f.set("member_expr", "value." + member.name);
      fields.push_back(f);
    }
    add_schema_struct(name, s.qualified_name, fields);
    data view;
    view.set("struct_name", name);
    view.set("write_type", s.spelling);
    view.set("read_type", s.spelling);
    view.set("fields", fields);
    view.set("empty", s.fields.empty());
    return view;
  }

  static std::string param_type(const model::Param& param) {
    return param.pass == model::PassBy::kConstRef ? "const " + param.type.as_written() + "&" : param.type.as_written();
  }

  // A parameter in a declaration the user reads: named as in their header.
  static std::string param_decl(const model::Param& param) {
    return param.name.empty() ? param_type(param) : param_type(param) + " " + param.name;
  }

  // A parameter in a generated definition: named by its position, so that
  // no user's name (message_, put, ...) meets the generated code's own.
  static std::string arg_name(size_t index) { return "arg" + std::to_string(index); }
  static std::string param_def(const model::Param& param, size_t index) {
    return param_type(param) + " " + arg_name(index);
  }

  // Declares the params struct of a constructor or method in the schema and
  // returns the field views of its parameters.
  data params_struct(const std::string& name, const std::string& comment, const std::vector<model::Param>& params) {
    data fields{data::type::list};
    for (size_t i = 0; i < params.size(); ++i) {
      data f = field(arg_name(i), static_cast<unsigned>(i), params[i].type,
                     params[i].name.empty() ? arg_name(i) : params[i].name, wire_type(params[i].type));
      fields.push_back(f);
    }
    add_schema_struct(name, comment, fields);
    return fields;
  }

  // One callable form: a constructor or method called with its first `arity`
  // parameters (the others take their defaults in the child).
  data form(unsigned ordinal, const std::string& params_struct, const std::vector<model::Param>& params, size_t arity) {
    data view;
    view.set("ordinal", std::to_string(ordinal));
    view.set("params_struct", params_struct);
    std::string decl, def, encode_decl, arg_names, call_args;
    data puts{data::type::list};
    for (size_t i = 0; i < arity; ++i) {
      std::string name = arg_name(i);
      std::string wire = name;
      decl += (i ? ", " : "") + param_decl(params[i]);
      def += (i ? ", " : "") + param_def(params[i], i);
      // A byte vector by reference: the message may refer to the caller's
      // argument, not to a copy that encode() destroys when it returns.
      encode_decl +=
          ", " + (params[i].type.kind == model::TypeKind::kBytes ? "const " + params[i].type.spelling + "& " + name
                                                                 : param_def(params[i], i));
      arg_names += (i ? ", " : "") + name;
      call_args +=
          (i ? ", " : "") + ("get<" + decoded_spelling(params[i].type) + ">(wire.get" + capitalize(wire) + "())");
      data put;
      put.set("setter", setter(wire, params[i].type));
      put.set("name", name);
      puts.push_back(put);
    }
    view.set("params_decl", decl);
    view.set("params_def", def);
    view.set("encode_params", encode_decl);
    view.set("message_type", "procxy::detail::OutgoingMessage");
    view.set("arg_names", arg_names);
    view.set("args", arity > 0 ? ", " + arg_names : "");
    view.set("call_args", call_args);
    view.set("puts", puts);
    view.set("has_params", arity > 0);
    return view;
  }

  // A doc comment as the user wrote it, indented for a class body.
  static std::string doc_lines(const std::string& doc) {
    std::string lines;
    size_t start = 0;
    while (!doc.empty() && start <= doc.size()) {
      size_t end = doc.find('\n', start);
      if (end == std::string::npos) end = doc.size();
      std::string line = doc.substr(start, end - start);
      size_t text = line.find_first_not_of(" \t");
      if (text != std::string::npos) {
        // A block comment's continuation lines keep one space before the '*'.
        bool continuation = line[text] == '*' && start > 0;
        lines += std::string("  ") + (continuation ? " " : "") + line.substr(text) + "\n";
      }
      start = end + 1;
    }
    return lines;
  }

  // [[deprecated("...")]], so that a call through the proxy warns as a
  // local call would.
  static std::string deprecated(const std::string& message) {
    if (message.empty()) return "[[deprecated]] ";
    std::string literal;
    for (char c : message) {
      if (c == '"' || c == '\\') literal += '\\';
      if (c == '\n') {
        literal += "\\n";
        continue;
      }
      literal += c;
    }
    return "[[deprecated(\"" + literal + "\")]] ";
  }

  static size_t required_arity(const std::vector<model::Param>& params) {
    size_t required = params.size();
    while (required > 0 && params[required - 1].has_default) --required;
    return required;
  }

  data interface(const model::Interface& interface) {
    std::string prefix = names_.unique(camel(interface.name));
    data view;
    view.set("cpp_name", "::" + interface.qualified_name);
    view.set("qualified_name", interface.qualified_name);
    view.set("prefix", prefix);
    view.set("hash", hex(model::interface_hash(module_, interface)) + "ULL");

    data constructors{data::type::list};
    unsigned ordinal = 0;
    for (size_t c = 0; c < interface.constructors.size(); ++c) {
      const model::Constructor& constructor = interface.constructors[c];
      std::string name = names_.unique(prefix + "New" + std::to_string(c) + "Params");
      params_struct(name, interface.qualified_name + " constructor", constructor.params);
      for (size_t arity = required_arity(constructor.params); arity <= constructor.params.size(); ++arity) {
        data f = form(ordinal, name, constructor.params, arity);
        f.set("form_struct", prefix + "Construct" + std::to_string(ordinal));
        f.set("message_type", "capnp::MessageBuilder");  // it outlives the arguments: no references
        f.set("cpp_name", "::" + interface.qualified_name);
        constructors.push_back(f);
        ++ordinal;
      }
    }
    view.set("constructors", constructors);

    data forms{data::type::list};
    bool reads_params = false;
    ordinal = 0;
    EventViews events;
    for (size_t m = 0; m < interface.methods.size(); ++m) {
      const model::Method& method = interface.methods[m];
      std::string base = prefix + camel(method.name) + std::to_string(m);
      if (method.kind == model::MethodKind::kEvent) {
        add_event(interface, method, prefix, base, events);
        continue;
      }
      std::string params_name = names_.unique(base + "Params");
      std::string results_name = names_.unique(base + "Results");
      params_struct(params_name, interface.qualified_name + "::" + method.name + " parameters", method.params);
      data results{data::type::list};
      bool is_void = method.result.kind == model::TypeKind::kVoid;
      if (!is_void) results.push_back(field("value", 0, method.result, "result", wire_type(method.result)));
      add_schema_struct(results_name, interface.qualified_name + "::" + method.name + " result", results);

      for (size_t arity = required_arity(method.params); arity <= method.params.size(); ++arity) {
        data f = form(ordinal, params_name, method.params, arity);
        f.set("form_struct", prefix + "Form" + std::to_string(ordinal));
        f.set("name", method.name);
        f.set("qualified_name", interface.qualified_name + "::" + method.name);
        f.set("cpp_name", "::" + interface.qualified_name);
        f.set("results_struct", results_name);
        f.set("cpp_result", method.result.as_written());
        f.set("doc", doc_lines(method.doc));
        f.set("attributes", method.is_deprecated ? deprecated(method.deprecated_message) : "");
        f.set("is_void", is_void);
        f.set("query", method.kind == model::MethodKind::kQuery ? "true" : "false");
        f.set("cache_ms", std::to_string(method.cache_ms));
        f.set("result_setter", is_void ? "" : setter("value", method.result));
        reads_params = reads_params || arity > 0;
        forms.push_back(f);
        ++ordinal;
      }
    }
    view.set("forms", forms);
    view.set("has_forms", ordinal > 0);
    view.set("reads_params", reads_params);
    view.set("events", events.events);
    data event_types{data::type::list};
    std::string is_event = events.by_type.empty() ? "false" : "";
    for (auto& [member_type, group] : events.by_type) {
      std::string alias = "EventType" + std::to_string(event_types.list_value().size());
      is_event +=
          (is_event.empty() ? "" : " ||\n                                    ") + ("std::is_same_v<E, " + alias + ">");
      group.set("alias", alias);
      event_types.push_back(group);
    }
    view.set("event_types", event_types);
    view.set("is_event", is_event);
    return view;
  }

  // The events of one class, and their listen() overloads: one per distinct
  // member pointer type, in order of first appearance.
  struct EventViews {
    data events{data::type::list};
    std::vector<std::pair<std::string, data>> by_type;
  };

  void add_event(const model::Interface& interface, const model::Method& event, const std::string& prefix,
                 const std::string& base, EventViews& views) {
    std::string params_name = names_.unique(base + "Event");
    params_struct(params_name, interface.qualified_name + "::" + event.name + " event", event.params);
    unsigned ordinal = static_cast<unsigned>(views.events.list_value().size());
    data view = form(ordinal, params_name, event.params, event.params.size());
    std::string types, handler_types;
    for (size_t i = 0; i < event.params.size(); ++i) {
      const model::Param& param = event.params[i];
      types += (i ? ", " : "") + param_type(param);
      handler_types += (i ? ", " : "") + ("const " + param.type.as_written() + "&");
    }
    // Proxy::on() takes the member pointer without noexcept (a noexcept one
    // converts to it); the event's definition repeats it.
    std::string member_type =
        "void (::" + interface.qualified_name + "::*)(" + types + ")" + (event.is_const ? " const" : "");
    std::string qualifiers = std::string(event.is_const ? " const" : "") + (event.is_noexcept ? " noexcept" : "");
    view.set("form_struct", prefix + "Event" + std::to_string(ordinal));
    view.set("name", event.name);
    view.set("qualified_name", interface.qualified_name + "::" + event.name);
    view.set("const_suffix", qualifiers);
    view.set("member_type", member_type);
    view.set("handler_type", "std::function<void(" + handler_types + ")>");
    views.events.push_back(view);

    auto group = std::find_if(views.by_type.begin(), views.by_type.end(),
                              [&](const auto& entry) { return entry.first == member_type; });
    if (group == views.by_type.end()) {
      data type_view;
      type_view.set("member_type", member_type);
      type_view.set("handler_type", "std::function<void(" + handler_types + ")>");
      type_view.set("events", data{data::type::list});
      views.by_type.emplace_back(member_type, type_view);
      group = std::prev(views.by_type.end());
    }
    data member;
    member.set("form_struct", prefix + "Event" + std::to_string(ordinal));
    member.set("name", event.name);
    data list = group->second.get("events") ? *group->second.get("events") : data{data::type::list};
    list.push_back(member);
    group->second.set("events", list);
  }

  const model::Module& module_;
  Names names_;
  std::string schema_namespace_;
  std::map<std::string, std::string> struct_names_;     // aggregate -> schema name
  std::map<std::string, std::string> composite_names_;  // pair/tuple/variant spelling -> schema name
  data schema_structs_{data::type::list};
  data records_{data::type::list};   // aggregates, pairs, tuples: written field by field
  data variants_{data::type::list};  // written as a union
};

}  // namespace

std::string stem_of(const std::string& header) { return std::filesystem::path(header).stem().string(); }

Context make_context(const model::Module& module) { return ViewBuilder(module).build(); }

}  // namespace procxy::emit
