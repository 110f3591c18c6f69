// The sandbox example: untrusted configuration text is parsed in a
// sandboxed child, which may read its include directory and nothing else.
// A hostile input that includes /etc/passwd gets "Permission denied" inside
// the parser, and the parent learns nothing from that file. See docs/sandbox.md.

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "config_parser.procxy.h"

int main(int argc, char** argv) {
  procxy::serve_if_child(argc, argv);

  namespace fs = std::filesystem;
  fs::path includes = fs::temp_directory_path() / ("procxy-sandbox-example-" + std::to_string(::getpid()));
  fs::create_directories(includes);
  std::ofstream(includes / "defaults.conf") << "colour = blue\nsize = 12\n";

  procxy::Options options;
  options.sandbox.enabled = true;
  options.sandbox.read_only = {includes};  // all the parser may open
  int status = 0;
  try {
    auto parser = procxy::spawn<demo::ConfigParser>(options, includes.string());

    auto settings = parser->parse("include defaults.conf\nsize = 14\n");
    std::printf("parsed: colour = %s, size = %s\n", settings["colour"].c_str(), settings["size"].c_str());
    if (settings["colour"] != "blue" || settings["size"] != "14") status = 1;

    try {
      parser->parse("include /etc/passwd\n");  // the hostile input
      std::printf("the hostile include was read: the sandbox did not hold\n");
      status = 1;
    } catch (const std::runtime_error& e) {
      std::printf("hostile input refused in the child: %s\n", e.what());
      if (std::string(e.what()).find("Permission denied") == std::string::npos) status = 1;
    }
  } catch (const procxy::SpawnError& e) {
    // A kernel without Landlock or seccomp (docs/sandbox.md, "Kernel features needed").
    std::fprintf(stderr, "%s\n", e.what());
    status = 2;
  }
  fs::remove_all(includes);
  return status;
}
