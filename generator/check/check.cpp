#include "check/check.h"

#include <filesystem>
#include <map>
#include <string>

#include "model/dump.h"

namespace procxy::check {
namespace {

std::string cannot_cross(const model::Type& type) {
  return "'" + type.spelling + "', which cannot cross a process boundary (" + type.reason + ")";
}

std::string param_name(const model::Param& param, size_t index) {
  return param.name.empty() ? std::to_string(index + 1) : "'" + param.name + "'";
}

void check_params(const std::vector<model::Param>& params, const std::string& owner, DiagnosticSink& sink) {
  for (size_t i = 0; i < params.size(); ++i) {
    const model::Param& param = params[i];
    if (param.type.kind == model::TypeKind::kUnsupported) {
      sink.error(param.location,
                 "parameter " + param_name(param, i) + " of '" + owner + "' has type " + cannot_cross(param.type));
    } else if (param.type.kind == model::TypeKind::kVoid) {
      sink.error(param.location, "parameter " + param_name(param, i) + " of '" + owner + "' has type void");
    }
  }
}

void check_method(const model::Interface& interface, const model::Method& method, DiagnosticSink& sink) {
  std::string owner = interface.qualified_name + "::" + method.name;
  if (method.kind == model::MethodKind::kEvent) {
    if (method.result.kind != model::TypeKind::kVoid) {
      sink.error(method.location, "event '" + owner + "' must return void: events carry no result back to the child");
    }
    if (method.is_defined) {
      sink.error(method.location, "event '" + owner + "' has a body; declare it only, procxy-gen writes its body");
    }
    for (const model::Method& other : interface.methods) {
      if (&other != &method && other.name == method.name) {
        sink.error(method.location, "event '" + owner +
                                        "' shares its name with another method; give the event a name of its own, "
                                        "so that &" +
                                        owner + " names it alone in Proxy::on()");
        break;
      }
    }
  } else if (method.result.kind == model::TypeKind::kStringView) {
    sink.error(method.location, "return type of '" + owner +
                                    "' is 'std::string_view', which would dangle once the reply is decoded "
                                    "(return std::string instead)");
  } else if (method.result.kind == model::TypeKind::kUnsupported) {
    sink.error(method.location, "return type of '" + owner + "' is " + cannot_cross(method.result));
  }
  check_params(method.params, owner, sink);
}

// The proxy has one method per name and parameter list (a form without its
// defaulted parameters is one too), and none is const: int value() beside
// int value() const, or f() beside f(int = 0), would be declared twice.
void check_forms(const model::Interface& interface, DiagnosticSink& sink) {
  std::map<std::string, const model::Method*> forms;
  for (const model::Method& method : interface.methods) {
    if (method.kind == model::MethodKind::kEvent) continue;
    std::string key = method.name + "(";
    size_t required = method.params.size();
    while (required > 0 && method.params[required - 1].has_default) --required;
    for (size_t arity = 0; arity <= method.params.size(); ++arity) {
      if (arity > 0) {
        const model::Param& param = method.params[arity - 1];
        key += model::dump(param.type) + (param.pass == model::PassBy::kConstRef ? "&," : ",");
      }
      if (arity < required) continue;
      auto [previous, fresh] = forms.emplace(key, &method);
      if (fresh || previous->second == &method) continue;
      const model::Method& other = *previous->second;
      std::string owner = interface.qualified_name + "::" + method.name;
      std::string why = other.is_const != method.is_const
                            ? "they differ only in const, and a proxy's methods are not const"
                            : "called with these arguments, they are the same method of the proxy";
      sink.error(method.location, "'" + owner + "' and the '" + method.name + "' at line " +
                                      std::to_string(other.location.line) + " cannot both be exposed: " + why +
                                      " (mark one of them PROCXY_HIDDEN)");
      break;
    }
  }
}

// spawn<T>(args...) chooses a constructor form by its arguments: X() beside
// X(int = 0) would be declared twice.
void check_constructor_forms(const model::Interface& interface, DiagnosticSink& sink) {
  std::map<std::string, const model::Constructor*> forms;
  for (const model::Constructor& constructor : interface.constructors) {
    std::string key;
    size_t required = constructor.params.size();
    while (required > 0 && constructor.params[required - 1].has_default) --required;
    for (size_t arity = 0; arity <= constructor.params.size(); ++arity) {
      if (arity > 0) {
        const model::Param& param = constructor.params[arity - 1];
        key += model::dump(param.type) + (param.pass == model::PassBy::kConstRef ? "&," : ",");
      }
      if (arity < required) continue;
      auto [previous, fresh] = forms.emplace(key, &constructor);
      if (fresh || previous->second == &constructor) continue;
      sink.error(constructor.location, "this constructor of '" + interface.qualified_name + "' and the one at line " +
                                           std::to_string(previous->second->location.line) +
                                           " take the same arguments when defaults are left out, so spawn() "
                                           "cannot tell them apart (mark one of them PROCXY_HIDDEN)");
      break;
    }
  }
}

// Names that the generated proxy uses for itself.
void check_names(const model::Interface& interface, DiagnosticSink& sink) {
  for (const model::Method& method : interface.methods) {
    if (method.name.rfind("procxy_", 0) == 0) {
      sink.error(method.location, "'" + interface.qualified_name + "::" + method.name +
                                      "' cannot be exposed: names starting with procxy_ are the proxy's own "
                                      "(rename it, or mark it PROCXY_HIDDEN)");
    }
  }
}

}  // namespace

void check(const model::Module& module, DiagnosticSink& sink) {
  for (const model::Interface& interface : module.interfaces) {
    for (const model::Constructor& constructor : interface.constructors) {
      check_params(constructor.params, interface.qualified_name + "::" + interface.name, sink);
    }
    for (const model::Method& method : interface.methods) check_method(interface, method, sink);
    check_forms(interface, sink);
    check_constructor_forms(interface, sink);
    check_names(interface, sink);
  }
}

void check_together(const std::vector<model::Module>& modules, DiagnosticSink& sink) {
  std::map<std::string, const model::Interface*> classes;
  std::map<std::string, std::string> stems;
  for (const model::Module& module : modules) {
    std::string stem = std::filesystem::path(module.header).stem().string();
    auto [previous_stem, fresh_stem] = stems.emplace(stem, module.header);
    if (!fresh_stem) {
      sink.error({module.header, 1, 1}, "headers '" + previous_stem->second + "' and '" + module.header +
                                            "' would both generate " + stem + ".procxy.*; rename one of them");
    }
    for (const model::Interface& interface : module.interfaces) {
      auto [previous, fresh] = classes.emplace(interface.qualified_name, &interface);
      if (fresh) continue;
      const model::SourceLocation& first = previous->second->location;
      sink.error(interface.location, "class '" + interface.qualified_name + "' is also PROCXY_REMOTE in " + first.file +
                                         ":" + std::to_string(first.line) +
                                         "; the remote classes of one target need different qualified names");
    }
  }
}

}  // namespace procxy::check
