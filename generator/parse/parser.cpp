#include "parse/parser.h"

#include <clang-c/CXCompilationDatabase.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string_view>

#include "parse/clang_handles.h"
#include "parse/extract.h"
#include "parse/installation.h"

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

// libclang 14 knows the standards up to C++20 and c++2b; a newer one (what
// CMAKE_CXX_STANDARD 23 passes) is parsed as c++2b, its newest, with a note.
std::vector<std::string> known_standards(const std::vector<std::string>& flags, DiagnosticSink& sink) {
  std::vector<std::string> out;
  for (const std::string& flag : flags) {
    std::string mapped = flag;
    for (const char* dialect : {"c++", "gnu++"}) {
      for (const char* version : {"23", "2c", "26"}) {
        if (flag == std::string("-std=") + dialect + version) mapped = std::string("-std=") + dialect + "2b";
      }
    }
    if (mapped != flag) {
      sink.report(Severity::kNote, {}, "libclang 14 does not know " + flag + "; parsing as " + mapped + ", its newest");
    }
    out.push_back(mapped);
  }
  return out;
}

CXErrorCode parse_into(CXIndex index, const std::string& file, const std::vector<std::string>& args,
                       CXUnsavedFile* unsaved, CXTranslationUnit* tu) {
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  return clang_parseTranslationUnit2(index, file.c_str(), argv.data(), static_cast<int>(argv.size()), unsaved,
                                     unsaved ? 1 : 0,
                                     // Function bodies are skipped: parsing the std headers' inline bodies
                                     // was a quarter of a run. A skipped body still makes a definition, so
                                     // an event given a body is still refused.
                                     CXTranslationUnit_KeepGoing | CXTranslationUnit_SkipFunctionBodies, tu);
}

// When clang refuses the command line it says nothing through libclang:
// find the first of the user's flags (from `first`) that it refuses, by
// parsing an empty file with ever more of them. Only run after a failure.
std::string refused_flag(CXIndex index, const std::vector<std::string>& args, size_t first) {
  std::string file = "procxy-gen-flags.h";
  std::string empty;
  CXUnsavedFile unsaved{file.c_str(), empty.c_str(), 0};
  auto parses = [&](size_t count) {
    std::vector<std::string> prefix(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(count));
    CXTranslationUnit tu = nullptr;
    CXErrorCode code = parse_into(index, file, prefix, &unsaved, &tu);
    if (tu) clang_disposeTranslationUnit(tu);
    return code == CXError_Success;
  };
  // A flag that takes a value (-I dir) fails without it: blame a flag only
  // when the next one does not make the command line good again.
  for (size_t count = first + 1; count <= args.size(); ++count) {
    if (!parses(count) && (count == args.size() || !parses(count + 1))) return args[count - 1];
  }
  return "";
}

// Options of compile commands whose value is a path: "-I dir", "-isystem dir",
// and joined, "-Idir" (the two-letter ones only).
constexpr const char* kPathOptions[] = {"-I", "-F", "-isystem", "-iquote", "-idirafter", "-include", "-imacros"};

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
                                   clang_resource_dir().string(),
                                   "-Wno-everything"};
  if (std::optional<std::filesystem::path> procxy_include = runtime_include_dir()) {
    args.insert(args.end(), {"-I", procxy_include->string()});
  }
  // Every comment, not only ///, is a doc comment the proxy's declarations keep.
  args.push_back("-fparse-all-comments");
  size_t first_user_flag = args.size();
  std::vector<std::string> flags = known_standards(input.flags, sink);
  args.insert(args.end(), flags.begin(), flags.end());

  CXUnsavedFile unsaved{input.header.c_str(), input.text ? input.text->c_str() : nullptr,
                        input.text ? static_cast<unsigned long>(input.text->size()) : 0};
  Index index(clang_createIndex(/*excludeDeclarationsFromPCH=*/0, /*displayDiagnostics=*/0));
  CXTranslationUnit raw = nullptr;
  CXErrorCode code = parse_into(index.get(), input.header, args, input.text ? &unsaved : nullptr, &raw);
  TranslationUnit tu(raw);
  if (code != CXError_Success || !tu) {
    std::string flag = refused_flag(index.get(), args, first_user_flag);
    sink.error({}, "cannot parse '" + input.header + "': " +
                       (flag.empty()
                            ? "libclang error " + std::to_string(code) + "; check that the file exists and can be read"
                            : "clang refuses the flag '" + flag + "'; correct or remove it"));
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
  // Like clang's tools, -p takes the build directory or the database itself.
  std::filesystem::path database_dir = build_path;
  if (std::filesystem::is_regular_file(database_dir)) database_dir = database_dir.parent_path();
  if (database_dir.empty()) database_dir = ".";
  CXCompilationDatabase_Error error;
  CXCompilationDatabase db = clang_CompilationDatabase_fromDirectory(database_dir.c_str(), &error);
  if (error != CXCompilationDatabase_NoError) {
    throw std::runtime_error("no compile_commands.json in '" + database_dir.string() +
                             "' (configure with -DCMAKE_EXPORT_COMPILE_COMMANDS=ON)");
  }
  std::string absolute_header = std::filesystem::absolute(header).lexically_normal().string();
  CXCompileCommands commands = clang_CompilationDatabase_getCompileCommands(db, absolute_header.c_str());
  if (clang_CompileCommands_getSize(commands) == 0) {
    clang_CompileCommands_dispose(commands);
    commands = clang_CompilationDatabase_getAllCompileCommands(db);
  }
  std::vector<std::string> flags;
  if (clang_CompileCommands_getSize(commands) > 0) {
    CXCompileCommand command = clang_CompileCommands_getCommand(commands, 0);
    std::filesystem::path directory = to_string(clang_CompileCommand_getDirectory(command));
    std::string file = to_string(clang_CompileCommand_getFilename(command));
    // Paths in an entry are relative to its "directory", not to ours.
    auto resolved = [&](const std::string& path) {
      return path.empty() || std::filesystem::path(path).is_absolute() ? path : (directory / path).string();
    };
    unsigned count = clang_CompileCommand_getNumArgs(command);
    // Keep the flags; drop the compiler, the input, the output and -c.
    for (unsigned i = 1; i < count; ++i) {
      std::string arg = to_string(clang_CompileCommand_getArg(command, i));
      if (arg == "-o" || arg == "-MF" || arg == "-MT" || arg == "-MQ") {
        ++i;
        continue;
      }
      if (arg == "-c" || arg == "--" || arg == file || resolved(arg) == resolved(file) || arg.rfind("-M", 0) == 0) {
        continue;
      }
      bool path_follows = false;
      for (const char* option : kPathOptions) {
        std::string_view name = option;
        if (arg == name) {
          path_follows = true;
        } else if (arg.size() > name.size() && arg.compare(0, name.size(), name) == 0 && name.size() == 2) {
          arg = std::string(name) + resolved(arg.substr(name.size()));  // -Ipath
        }
      }
      flags.push_back(arg);
      if (path_follows && i + 1 < count) {
        flags.push_back(resolved(to_string(clang_CompileCommand_getArg(command, ++i))));
      }
    }
  }
  clang_CompileCommands_dispose(commands);
  clang_CompilationDatabase_dispose(db);
  if (flags.empty()) {
    throw std::runtime_error("compile_commands.json in '" + database_dir.string() + "' has no entries");
  }
  return flags;
}

}  // namespace procxy::parse
