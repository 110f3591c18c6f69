#include "cli.h"

#include <stdexcept>

namespace procxy::cli {
namespace {

struct Option {
  const char* short_name;  // may be empty
  const char* long_name;
  const char* value;  // name of the value, or nullptr for a flag
  const char* help;
  void (*apply)(Options&, const std::string&);
};

const Option kOptions[] = {
    {"-o", "--out-dir", "DIR", "write the outputs into DIR (default: .)",
     [](Options& o, const std::string& v) { o.out_dir = v; }},
    {"-p", "--build-path", "DIR", "read compiler flags from DIR/compile_commands.json, or from DIR if it is that file",
     [](Options& o, const std::string& v) { o.build_path = v; }},
    {"", "--depfile", "FILE", "write a Makefile-style depfile of every file read",
     [](Options& o, const std::string& v) { o.depfile = v; }},
    {"", "--check", nullptr, "diagnose only; write nothing",
     [](Options& o, const std::string&) { o.check_only = true; }},
    {"", "--dump-model", nullptr, "print the parsed model and write nothing",
     [](Options& o, const std::string&) { o.dump_model = true; }},
    {"", "--version", nullptr, "print the version and exit", [](Options& o, const std::string&) { o.version = true; }},
    {"-h", "--help", nullptr, "print this help and exit", [](Options& o, const std::string&) { o.help = true; }},
};

}  // namespace

Options parse(int argc, const char* const* argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") {
      options.compiler_flags.assign(argv + i + 1, argv + argc);
      break;
    }
    if (arg.size() > 1 && arg[0] == '-') {
      std::string name = arg, value;
      bool inline_value = false;
      if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
        name = arg.substr(0, eq);
        value = arg.substr(eq + 1);
        inline_value = true;
      }
      const Option* match = nullptr;
      for (const Option& option : kOptions) {
        if (name == option.long_name || (*option.short_name && name == option.short_name)) match = &option;
      }
      if (!match) throw std::invalid_argument("unknown option '" + arg + "'");
      if (match->value && !inline_value) {
        if (i + 1 >= argc) throw std::invalid_argument(std::string("option '") + name + "' needs a value");
        value = argv[++i];
      } else if (!match->value && inline_value) {
        throw std::invalid_argument(std::string("option '") + name + "' takes no value");
      }
      match->apply(options, value);
      continue;
    }
    options.headers.push_back(arg);
  }
  if (options.headers.empty() && !options.help && !options.version) {
    throw std::invalid_argument("no header given");
  }
  return options;
}

std::string help_text() {
  std::string text =
      "usage: procxy-gen [options] HEADER... [-- COMPILER_FLAGS...]\n\n"
      "Reads PROCXY_REMOTE classes from each HEADER and writes NAME.procxy.h,\n"
      "NAME.procxy.cpp and NAME.procxy.capnp for it.\n\noptions:\n";
  for (const Option& option : kOptions) {
    std::string names = *option.short_name ? std::string(option.short_name) + ", " + option.long_name
                                           : std::string("    ") + option.long_name;
    if (option.value) names += std::string(" ") + option.value;
    text += "  " + names + std::string(names.size() < 24 ? 24 - names.size() : 1, ' ') + option.help + "\n";
  }
  text += "\nexit status: 0 success, 1 diagnostics were reported, 2 bad usage\n";
  return text;
}

}  // namespace procxy::cli
