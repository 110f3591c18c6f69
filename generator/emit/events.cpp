#include "emit/events.h"

#include <algorithm>

#include "emit/forms.h"

namespace procxy::emit {

void EventViews::add(const model::Interface& interface, const model::Method& event, const std::string& prefix,
                     const std::string& base, Schema& schema) {
  std::string params_name = schema.names().unique(base + "Event");
  schema.add_params_struct(params_name, interface.qualified_name + "::" + event.name + " event", event.params);
  unsigned ordinal = static_cast<unsigned>(events_.list_value().size());
  Context view = form_view(ordinal, params_name, event.params, event.params.size());
  std::string param_types, handler_params;
  for (size_t i = 0; i < event.params.size(); ++i) {
    const model::Param& param = event.params[i];
    param_types += (i ? ", " : "") + param_type(param);
    handler_params += (i ? ", " : "") + ("const " + param.type.as_written() + "&");
  }
  std::string form_struct = prefix + "Event" + std::to_string(ordinal);
  view.set("form_struct", form_struct);
  view.set("name", event.name);
  view.set("qualified_name", interface.qualified_name + "::" + event.name);
  // The event's definition repeats its qualifiers; Proxy::on() takes the
  // member pointer without noexcept (a noexcept one converts to it).
  view.set("const_suffix", std::string(event.is_const ? " const" : "") + (event.is_noexcept ? " noexcept" : ""));
  view.set("handler_params", handler_params);
  events_.push_back(view);

  std::string member_type = param_types + (event.is_const ? ") const" : ")");
  auto group = std::find_if(by_type_.begin(), by_type_.end(),
                            [&](const auto& entry) { return entry.first == member_type; });
  if (group == by_type_.end()) {
    Context type_view;
    type_view.set("param_types", param_types);
    type_view.set("is_const", event.is_const);
    type_view.set("handler_params", handler_params);
    type_view.set("events", Context{Context::type::list});
    by_type_.emplace_back(member_type, type_view);
    group = std::prev(by_type_.end());
  }
  Context member;
  member.set("form_struct", form_struct);
  member.set("name", event.name);
  Context list = *group->second.get("events");
  list.push_back(member);
  group->second.set("events", list);
}

void EventViews::set_on(Context& view) const {
  view.set("events", events_);
  Context event_types{Context::type::list};
  std::string is_event = by_type_.empty() ? "false" : "";
  for (auto [member_type, group] : by_type_) {
    std::string alias = "EventType" + std::to_string(event_types.list_value().size());
    is_event +=
        (is_event.empty() ? "" : " ||\n                                    ") + ("std::is_same_v<E, " + alias + ">");
    group.set("alias", alias);
    event_types.push_back(group);
  }
  view.set("event_types", event_types);
  view.set("is_event", is_event);
}

}  // namespace procxy::emit
