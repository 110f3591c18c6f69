#include "parse/parser.h"

#include <clang-c/CXCompilationDatabase.h>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "parse/clang_handles.h"
#include "parse/extract.h"

namespace procxy::parse {
namespace {

void forward_diagnostics(CXTranslationUnit tu, DiagnosticSink& sink) {
  unsigned count = clang_getNumDiagnostics(tu);
  for (unsigned i = 0; i < count; ++i) {
    CXDiagnostic diagnostic = clang_getDiagnostic(tu, i);
    CXDiagnosticSeverity severity = clang_getDiagnosticSeverity(diagnostic);
    if (severity >= CXDiagnostic_Error) {
      sink.forward(Severity::kError,
                   to_string(clang_formatDiagnostic(diagnostic, clang_defaultDiagnosticDisplayOptions())));
    }
    clang_disposeDiagnostic(diagnostic);
  }
}

std::vector<std::string> included_files(CXTranslationUnit tu) {
  std::set<std::string> files;
  clang_getInclusions(
      tu,
      [](CXFile file, CXSourceLocation*, unsigned, CXClientData data) {
        static_cast<std::set<std::string>*>(data)->insert(to_string(clang_getFileName(file)));
      },
      &files);
  return {files.begin(), files.end()};
}

}  // namespace

std::optional<model::Module> parse(const ParseInput& input, DiagnosticSink& sink) {
  // The defaults come first so that the user's flags (a later -std=) win.
  std::vector<std::string> args = {"-x",
                                   "c++",
                                   "-std=c++20",
                                   "-DPROCXY_GENERATOR=1",
                                   "-resource-dir",
                                   PROCXY_CLANG_RESOURCE_DIR,
                                   "-I",
                                   PROCXY_RUNTIME_INCLUDE_DIR,
                                   "-Wno-everything"};
  args.insert(args.end(), input.flags.begin(), input.flags.end());
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());

  CXUnsavedFile unsaved{input.header.c_str(), input.text ? input.text->c_str() : nullptr,
                        input.text ? static_cast<unsigned long>(input.text->size()) : 0};
  Index index(clang_createIndex(/*excludeDeclarationsFromPCH=*/0, /*displayDiagnostics=*/0));
  CXTranslationUnit raw = nullptr;
  CXErrorCode code =
      clang_parseTranslationUnit2(index.get(), input.header.c_str(), argv.data(), static_cast<int>(argv.size()),
                                  input.text ? &unsaved : nullptr, input.text ? 1 : 0,
                                  // Function bodies are skipped: parsing the std headers' inline bodies
                                  // was a quarter of a run. A skipped body still makes a definition, so
                                  // an event given a body is still refused.
                                  CXTranslationUnit_KeepGoing | CXTranslationUnit_SkipFunctionBodies, &raw);
  TranslationUnit tu(raw);
  if (code != CXError_Success || !tu) {
    sink.error({}, "cannot parse '" + input.header + "' (libclang error " + std::to_string(code) +
                       "); check that the file exists and the flags after -- are valid");
    return std::nullopt;
  }
  int errors_before = sink.error_count();
  forward_diagnostics(tu.get(), sink);
  if (sink.error_count() > errors_before) return std::nullopt;

  model::Module module;
  module.header = input.header;
  module.dependencies = included_files(tu.get());
  extract(tu.get(), module, sink);
  return module;
}

std::vector<std::string> flags_from_compile_commands(const std::string& build_path, const std::string& header) {
  CXCompilationDatabase_Error error;
  CXCompilationDatabase db = clang_CompilationDatabase_fromDirectory(build_path.c_str(), &error);
  if (error != CXCompilationDatabase_NoError) {
    throw std::runtime_error("no compile_commands.json in '" + build_path +
                             "' (configure with -DCMAKE_EXPORT_COMPILE_COMMANDS=ON)");
  }
  CXCompileCommands commands = clang_CompilationDatabase_getCompileCommands(db, header.c_str());
  if (clang_CompileCommands_getSize(commands) == 0) {
    clang_CompileCommands_dispose(commands);
    commands = clang_CompilationDatabase_getAllCompileCommands(db);
  }
  std::vector<std::string> flags;
  if (clang_CompileCommands_getSize(commands) > 0) {
    CXCompileCommand command = clang_CompileCommands_getCommand(commands, 0);
    std::string file = to_string(clang_CompileCommand_getFilename(command));
    unsigned count = clang_CompileCommand_getNumArgs(command);
    // Keep the flags; drop the compiler, the input, the output and -c.
    for (unsigned i = 1; i < count; ++i) {
      std::string arg = to_string(clang_CompileCommand_getArg(command, i));
      if (arg == "-o" || arg == "-MF" || arg == "-MT" || arg == "-MQ") {
        ++i;
        continue;
      }
      if (arg == "-c" || arg == "--" || arg == file || arg.rfind("-M", 0) == 0) continue;
      flags.push_back(arg);
    }
  }
  clang_CompileCommands_dispose(commands);
  clang_CompilationDatabase_dispose(db);
  if (flags.empty()) throw std::runtime_error("compile_commands.json in '" + build_path + "' has no entries");
  return flags;
}

}  // namespace procxy::parse
