#include "parse/installation.h"

#include <dlfcn.h>

#include <regex>
#include <stdexcept>
#include <vector>

#include "parse/clang_handles.h"

namespace procxy::parse {
namespace fs = std::filesystem;

std::optional<fs::path> runtime_include_dir() {
  std::error_code error;
  fs::path exe = fs::read_symlink("/proc/self/exe", error);
  if (error) return std::nullopt;
  fs::path dir = (exe.parent_path() / PROCXY_INCLUDE_FROM_BIN).lexically_normal();
  if (!fs::exists(dir / "procxy" / "annotate.h", error)) return std::nullopt;
  return dir;
}

namespace {

fs::path find_clang_resource_dir() {
  // "Debian clang version 14.0.6" -> "14.0.6"
  std::string version_text = to_string(clang_getClangVersion());
  std::smatch version;
  std::regex_search(version_text, version, std::regex(R"((\d+\.\d+\.\d+))"));

  std::vector<fs::path> candidates;
  Dl_info info{};
  if (version.size() > 1 && dladdr(reinterpret_cast<void*>(&clang_getClangVersion), &info) && info.dli_fname) {
    std::error_code error;
    fs::path library_dir = fs::canonical(info.dli_fname, error).parent_path();
    if (!error) {
      candidates.push_back(library_dir / "clang" / version[1].str());                // LLVM's own layout
      candidates.push_back(library_dir.parent_path() / "clang" / version[1].str());  // Debian's multiarch lib/
    }
  }
  candidates.emplace_back(PROCXY_CLANG_RESOURCE_DIR);  // where it was when procxy-gen was built
  std::string looked;
  for (const fs::path& candidate : candidates) {
    std::error_code error;
    if (fs::exists(candidate / "include" / "stddef.h", error)) return candidate;
    looked += (looked.empty() ? "" : ", ") + candidate.string();
  }
  throw std::runtime_error("cannot find clang's resource directory (the one with include/stddef.h) for " +
                           version_text + "; looked in " + looked + " (install libclang-common-14-dev)");
}

}  // namespace

fs::path clang_resource_dir() {
  static const fs::path dir = find_clang_resource_dir();
  return dir;
}

}  // namespace procxy::parse
