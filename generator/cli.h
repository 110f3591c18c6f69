#pragma once

// procxy-gen's command line: one option table drives parsing and --help.

#include <optional>
#include <string>
#include <vector>

namespace procxy::cli {

struct Options {
  std::string out_dir = ".";
  std::optional<std::string> build_path;  // -p: read flags from compile_commands.json
  std::optional<std::string> depfile;
  bool check_only = false;
  bool dump_model = false;
  bool help = false;
  bool version = false;
  std::vector<std::string> headers;
  std::vector<std::string> compiler_flags;  // after --
};

// Parses argv. Throws std::invalid_argument with a one-line message on bad usage.
Options parse(int argc, const char* const* argv);

std::string help_text();

}  // namespace procxy::cli
