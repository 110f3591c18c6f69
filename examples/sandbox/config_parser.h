#pragma once

// A parser of untrusted configuration text: "key = value" lines, and
// "include <path>" lines that pull in another file, as many real formats
// allow (and as attackers love: an include of /etc/passwd, or of a private
// key, is how such parsers leak files).

#include <procxy/annotate.h>

#include <map>
#include <string>

namespace demo {

class PROCXY_REMOTE ConfigParser {
 public:
  // Include paths are looked up relative to `include_dir`.
  explicit ConfigParser(const std::string& include_dir);

  // The settings of `text`, includes resolved. Throws std::runtime_error
  // naming the line that cannot be parsed or the include that cannot be read.
  std::map<std::string, std::string> parse(const std::string& text);

 private:
  void parse_into(const std::string& text, std::map<std::string, std::string>& settings, int depth);

  std::string include_dir_;
};

}  // namespace demo
