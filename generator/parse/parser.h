#pragma once

// libclang -> model. The only entry point of parse/.

#include <optional>
#include <string>
#include <vector>

#include "diagnostics.h"
#include "model/model.h"

namespace procxy::parse {

struct ParseInput {
  std::string header;               // path as given; diagnostics use it
  std::vector<std::string> flags;   // compiler flags (-I, -D, -std, ...)
  std::optional<std::string> text;  // parse this instead of the file (tests)
};

// Parses one header and extracts every PROCXY_REMOTE class in it. Clang's own
// errors go to `sink`; returns nullopt when the header could not be parsed.
// Types that cannot cross stay in the model as kUnsupported for check/.
std::optional<model::Module> parse(const ParseInput& input, DiagnosticSink& sink);

// The flags of `header` in the compile_commands.json of `build_path`: the
// header's own entry if it has one, else the first entry (headers are rarely
// listed). Throws std::runtime_error when there is no usable database.
std::vector<std::string> flags_from_compile_commands(const std::string& build_path, const std::string& header);

}  // namespace procxy::parse
