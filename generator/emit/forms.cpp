#include "emit/forms.h"

namespace procxy::emit {
namespace {

// The C++ type a parameter is decoded as in the child: a std::string_view
// parameter is backed by a std::string that lives through the call.
std::string decoded_spelling(const model::Type& type) {
  return type.kind == model::TypeKind::kStringView ? "std::string" : type.spelling;
}

// A parameter in a declaration the user reads: named as in their header.
std::string param_decl(const model::Param& param) {
  return param.name.empty() ? param_type(param) : param_type(param) + " " + param.name;
}

// A parameter in a generated definition: named by its position (arg_name).
std::string param_def(const model::Param& param, size_t index) { return param_type(param) + " " + arg_name(index); }

}  // namespace

Context form_view(unsigned ordinal, const std::string& params_struct, const std::vector<model::Param>& params,
                  size_t arity) {
  Context view;
  view.set("ordinal", std::to_string(ordinal));
  view.set("params_struct", params_struct);
  std::string decl, def, encode_decl, arg_names, call_args;
  Context puts{Context::type::list};
  for (size_t i = 0; i < arity; ++i) {
    std::string name = arg_name(i);
    decl += (i ? ", " : "") + param_decl(params[i]);
    def += (i ? ", " : "") + param_def(params[i], i);
    // A byte vector by reference: the message may refer to the caller's
    // argument, not to a copy that encode() destroys when it returns.
    encode_decl +=
        ", " + (params[i].type.kind == model::TypeKind::kBytes ? "const " + params[i].type.spelling + "& " + name
                                                               : param_def(params[i], i));
    arg_names += (i ? ", " : "") + name;
    call_args += (i ? ", " : "") + ("get<" + decoded_spelling(params[i].type) + ">(wire.get" + capitalize(name) + "())");
    Context put;
    put.set("setter", setter(name, params[i].type));
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

std::string param_type(const model::Param& param) {
  return param.pass == model::PassBy::kConstRef ? "const " + param.type.as_written() + "&" : param.type.as_written();
}

size_t required_arity(const std::vector<model::Param>& params) {
  size_t required = params.size();
  while (required > 0 && params[required - 1].has_default) --required;
  return required;
}

std::string doc_lines(const std::string& doc) {
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

std::string deprecated(const std::string& message) {
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

}  // namespace procxy::emit
