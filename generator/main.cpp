// procxy-gen: annotated C++ headers -> proxy, stub and Cap'n Proto schema.

#include <filesystem>
#include <fstream>
#include <iostream>

#include "check/check.h"
#include "cli.h"
#include "diagnostics.h"
#include "emit/emitter.h"
#include "emit/view.h"
#include "model/dump.h"
#include "parse/parser.h"
#include "procxy/version.h"

namespace {

constexpr int kOk = 0;
constexpr int kDiagnostics = 1;
constexpr int kUsage = 2;

int run(const procxy::cli::Options& options) {
  procxy::DiagnosticSink sink(std::cerr);
  std::vector<procxy::model::Module> modules;
  for (const std::string& header : options.headers) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(header, error)) {
      sink.error({}, "cannot read '" + header + "': " +
                         (std::filesystem::exists(header, error) ? "not a regular file" : "no such file"));
      continue;
    }
    std::vector<std::string> flags;
    if (options.build_path) flags = procxy::parse::flags_from_compile_commands(*options.build_path, header);
    flags.insert(flags.end(), options.compiler_flags.begin(), options.compiler_flags.end());
    std::optional<procxy::model::Module> module = procxy::parse::parse({header, flags, std::nullopt}, sink);
    if (!module) continue;
    procxy::check::check(*module, sink);
    if (module->interfaces.empty()) {
      sink.report(procxy::Severity::kWarning, {header, 1, 1},
                  "no PROCXY_REMOTE class in this header; nothing to generate");
    }
    modules.push_back(std::move(*module));
  }
  procxy::check::check_together(modules, sink);
  if (sink.error_count() > 0) return kDiagnostics;
  if (options.dump_model) {
    for (const auto& module : modules) std::cout << procxy::model::dump(module);
    return kOk;
  }
  if (options.check_only) return kOk;

  std::vector<std::string> dependencies;
  for (const auto& module : modules) {
    procxy::emit::write_files(options.out_dir, procxy::emit::render_module(module));
    dependencies.insert(dependencies.end(), module.dependencies.begin(), module.dependencies.end());
  }
  if (options.depfile) {
    std::filesystem::path target = std::filesystem::absolute(
        std::filesystem::path(options.out_dir) / (procxy::emit::stem_of(options.headers.front()) + ".procxy.h"));
    std::ofstream out(*options.depfile);
    out << procxy::emit::depfile_text(target.lexically_normal().string(), dependencies);
    if (!out.flush()) throw std::runtime_error("cannot write '" + *options.depfile + "'");
  }
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  procxy::cli::Options options;
  try {
    options = procxy::cli::parse(argc, argv);
  } catch (const std::invalid_argument& e) {
    std::cerr << "procxy-gen: " << e.what() << "\n(run 'procxy-gen --help' for usage)\n";
    return kUsage;
  }
  if (options.help) {
    std::cout << procxy::cli::help_text();
    return kOk;
  }
  if (options.version) {
    std::cout << "procxy-gen " PROCXY_VERSION_STRING "\n";
    return kOk;
  }
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::cerr << "procxy-gen: error: " << e.what() << '\n';
    return kDiagnostics;
  }
}
