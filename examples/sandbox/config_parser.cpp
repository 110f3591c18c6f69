#include "config_parser.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace demo {
namespace {

std::string trimmed(const std::string& text) {
  std::size_t begin = text.find_first_not_of(" \t");
  std::size_t end = text.find_last_not_of(" \t");
  return begin == std::string::npos ? "" : text.substr(begin, end - begin + 1);
}

}  // namespace

ConfigParser::ConfigParser(const std::string& include_dir) : include_dir_(include_dir) {}

std::map<std::string, std::string> ConfigParser::parse(const std::string& text) {
  std::map<std::string, std::string> settings;
  parse_into(text, settings, 0);
  return settings;
}

void ConfigParser::parse_into(const std::string& text, std::map<std::string, std::string>& settings, int depth) {
  std::istringstream lines(text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    line = trimmed(line);
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("include ", 0) == 0) {
      if (depth > 8) throw std::runtime_error("includes nested too deeply");
      // The bug a hostile input exploits: an absolute path, or "..", is
      // followed as readily as a name in include_dir.
      std::string name = trimmed(line.substr(8));
      std::string path = name[0] == '/' ? name : include_dir_ + "/" + name;
      std::ifstream file(path);
      if (!file) throw std::runtime_error("cannot include " + path + ": " + std::strerror(errno));
      std::stringstream included;
      included << file.rdbuf();
      parse_into(included.str(), settings, depth + 1);
      continue;
    }
    std::size_t equals = line.find('=');
    if (equals == std::string::npos) {
      throw std::runtime_error("line " + std::to_string(number) + " is neither 'key = value' nor 'include path'");
    }
    settings[trimmed(line.substr(0, equals))] = trimmed(line.substr(equals + 1));
  }
}

}  // namespace demo
