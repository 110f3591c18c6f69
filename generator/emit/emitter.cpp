#include "emit/emitter.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "emit/renderer.h"
#include "emit/view.h"

namespace procxy::emit {

std::map<std::string, std::string> render_module(const model::Module& module) {
  std::string stem = stem_of(module.header);
  Context context = make_context(module);
  std::map<std::string, std::string> files;
  for (const char* kind : {"h", "cpp", "capnp"}) {
    files[stem + ".procxy." + kind] = render(std::string("procxy.") + kind, context);
  }
  return files;
}

void write_files(const std::string& out_dir, const std::map<std::string, std::string>& files) {
  std::error_code error;
  std::filesystem::create_directories(out_dir, error);
  if (error) throw std::runtime_error("cannot create '" + out_dir + "': " + error.message());
  for (const auto& [name, text] : files) {
    std::filesystem::path path = std::filesystem::path(out_dir) / name;
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write '" + path.string() + "'");
  }
}

namespace {
std::string escape_make(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == ' ' || c == '#') out += '\\';
    if (c == '$') out += '$';
    out += c;
  }
  return out;
}
}  // namespace

std::string depfile_text(const std::string& target, const std::vector<std::string>& dependencies) {
  std::string text = escape_make(target) + ":";
  for (const std::string& dependency : dependencies) {
    // clang reports paths such as /usr/bin/../lib/gcc/../../include/c++/12;
    // build tools compare paths as text, so give them the real one.
    std::error_code error;
    std::filesystem::path path = std::filesystem::weakly_canonical(dependency, error);
    text += " \\\n  " + escape_make(error ? dependency : path.string());
  }
  return text + "\n";
}

}  // namespace procxy::emit
