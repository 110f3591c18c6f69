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

bool blank(const std::string& line) { return line.find_first_not_of(" \t") == std::string::npos; }

// Mustache keeps the line of a section tag whose section renders nothing; drop
// the blank lines that leaves after an opening brace, before a closing one,
// between blank lines, and at the end.
std::string tidy(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  std::vector<std::string> kept;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (blank(lines[i])) {
      bool after_open = !kept.empty() && !kept.back().empty() && kept.back().back() == '{';
      bool after_blank = !kept.empty() && blank(kept.back());
      size_t next = lines[i + 1 < lines.size() ? i + 1 : i].find_first_not_of(" \t");
      bool before_close = i + 1 < lines.size() && next != std::string::npos && lines[i + 1][next] == '}';
      if (after_open || after_blank || before_close) continue;
      kept.push_back("");
      continue;
    }
    kept.push_back(lines[i]);
  }
  while (!kept.empty() && blank(kept.back())) kept.pop_back();  // a file ends with its last line
  std::string out;
  for (const std::string& line : kept) out += line + "\n";
  return out;
}

}  // namespace

std::string render(const std::string& name, Context context) {
  for (const auto& [partial_name, text] : embedded_templates()) {
    // A partial's tag stands on a line of its own, whose newline is kept, so
    // the partial's own last newline goes.
    std::string body = text.size() && text.back() == '\n' ? text.substr(0, text.size() - 1) : text;
    context.set(partial_name, partial{[body] { return body; }});
  }
  mustache tmpl{template_text(name)};
  tmpl.set_custom_escape([](const std::string& text) { return text; });  // C++, not HTML
  std::string out = tmpl.render(context);
  if (!tmpl.is_valid()) throw std::logic_error("procxy-gen: template '" + name + "': " + tmpl.error_message());
  return tidy(out);
}

}  // namespace procxy::emit
