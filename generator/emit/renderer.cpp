#include "emit/renderer.h"

#include <map>
#include <stdexcept>
#include <vector>

namespace procxy::emit {

// Defined in the file that embed_templates.cmake writes at build time.
const std::map<std::string, std::string>& embedded_templates();

namespace {

using kainjow::mustache::mustache;
using kainjow::mustache::partial;

const std::string& template_text(const std::string& name) {
  auto it = embedded_templates().find(name);
  if (it == embedded_templates().end()) throw std::logic_error("procxy-gen: no template '" + name + "'");
  return it->second;
}

// kainjow/mustache 4.1 drops the line of a standalone section tag, as the
// Mustache spec says, only when the section renders: a false or empty section
// leaves its line behind, blank. Closing every section with its complement,
// which renders exactly when the section does not, makes both cases drop the
// line, so that a template's text is the output's text.
std::string with_complements(const std::string& text) {
  std::string out;
  std::vector<char> open;  // '#' or '^' of each enclosing section
  size_t done = 0;
  for (size_t tag = text.find("{{"); tag != std::string::npos; tag = text.find("{{", done)) {
    size_t end = text.find("}}", tag);
    if (end == std::string::npos) break;  // the parser will report it
    end += 2;
    char kind = text[tag + 2];
    out.append(text, done, end - done);
    done = end;
    if (kind == '#' || kind == '^') open.push_back(kind);
    if (kind != '/' || open.empty()) continue;
    std::string name = text.substr(tag + 3, end - 2 - (tag + 3));
    out += std::string("{{") + (open.back() == '#' ? '^' : '#') + name + "}}{{/" + name + "}}";
    open.pop_back();
  }
  return out + text.substr(done);
}

}  // namespace

std::string render(const std::string& name, Context context) {
  for (const auto& [partial_name, text] : embedded_templates()) {
    // A partial's tag stands on a line of its own, whose newline is kept, so
    // the partial's own last newline goes.
    std::string body = with_complements(text.size() && text.back() == '\n' ? text.substr(0, text.size() - 1) : text);
    context.set(partial_name, partial{[body] { return body; }});
  }
  mustache tmpl{with_complements(template_text(name))};
  tmpl.set_custom_escape([](const std::string& text) { return text; });  // C++, not HTML
  std::string out = tmpl.render(context);
  if (!tmpl.is_valid()) throw std::logic_error("procxy-gen: template '" + name + "': " + tmpl.error_message());
  return out;
}

}  // namespace procxy::emit
