#include "emit/class_view.h"

#include <vector>

#include "emit/events.h"
#include "emit/forms.h"
#include "model/interface_hash.h"

namespace procxy::emit {
namespace {

// "Calculator(const std::string&, int)": a constructor form as the message of
// a spawn<T>() no constructor takes lists it, by its parameters' types.
std::string constructor_signature(const model::Interface& interface, const model::Constructor& constructor,
                                  size_t arity) {
  std::string signature = interface.name + "(";
  for (size_t i = 0; i < arity; ++i) signature += (i ? ", " : "") + param_type(constructor.params[i]);
  return signature + ")";
}

// One form per arity from the required parameters to all of them, numbered
// from 0 across the constructors.
Context constructor_views(const model::Interface& interface, const std::string& prefix, Schema& schema) {
  std::vector<Context> forms;
  unsigned ordinal = 0;
  for (size_t c = 0; c < interface.constructors.size(); ++c) {
    const model::Constructor& constructor = interface.constructors[c];
    std::string name = schema.names().unique(prefix + "New" + std::to_string(c) + "Params");
    schema.add_params_struct(name, interface.qualified_name + " constructor", constructor.params);
    for (size_t arity = required_arity(constructor.params); arity <= constructor.params.size(); ++arity) {
      Context f = form_view(ordinal, name, constructor.params, arity);
      f.set("form_struct", prefix + "Construct" + std::to_string(ordinal));
      f.set("message_type", "capnp::MessageBuilder");  // it outlives the arguments: no references
      f.set("cpp_name", "::" + interface.qualified_name);
      f.set("signature", constructor_signature(interface, constructor, arity));
      forms.push_back(f);
      ++ordinal;
    }
  }
  // The list in accepts()'s message, one string-literal piece per form: the
  // last one closes the static_assert.
  Context constructors{Context::type::list};
  for (size_t f = 0; f < forms.size(); ++f) {
    forms[f].set("signature_end", f + 1 < forms.size() ? ",\"" : "\");");
    constructors.push_back(forms[f]);
  }
  return constructors;
}

}  // namespace

Context class_view(const model::Module& module, const model::Interface& interface, Schema& schema) {
  std::string prefix = schema.names().unique(camel(interface.name));
  Context view;
  view.set("cpp_name", "::" + interface.qualified_name);
  view.set("qualified_name", interface.qualified_name);
  view.set("prefix", prefix);
  view.set("hash", hex(model::interface_hash(module, interface)) + "ULL");
  view.set("constructors", constructor_views(interface, prefix, schema));

  // Methods: one form per arity, numbered from 0 across the methods; events
  // are numbered apart.
  Context forms{Context::type::list};
  bool reads_params = false;
  unsigned ordinal = 0;
  EventViews events;
  for (size_t m = 0; m < interface.methods.size(); ++m) {
    const model::Method& method = interface.methods[m];
    std::string base = prefix + camel(method.name) + std::to_string(m);
    if (method.kind == model::MethodKind::kEvent) {
      events.add(interface, method, prefix, base, schema);
      continue;
    }
    std::string qualified_name = interface.qualified_name + "::" + method.name;
    std::string params_name = schema.names().unique(base + "Params");
    std::string results_name = schema.names().unique(base + "Results");
    schema.add_params_struct(params_name, qualified_name + " parameters", method.params);
    Context results{Context::type::list};
    bool is_void = method.result.kind == model::TypeKind::kVoid;
    if (!is_void) results.push_back(schema.field("value", 0, method.result, "result"));
    schema.add_struct(results_name, qualified_name + " result", results);

    for (size_t arity = required_arity(method.params); arity <= method.params.size(); ++arity) {
      Context f = form_view(ordinal, params_name, method.params, arity);
      f.set("form_struct", prefix + "Form" + std::to_string(ordinal));
      f.set("name", method.name);
      f.set("qualified_name", qualified_name);
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
  events.set_on(view);
  return view;
}

}  // namespace procxy::emit
