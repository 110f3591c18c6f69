#include "machine.h"

#include <unistd.h>

#include <cctype>

namespace demo {

std::string Machine::hostname() const {
  char name[256] = "";
  ::gethostname(name, sizeof name - 1);
  return name;
}

std::int32_t Machine::pid() const { return static_cast<std::int32_t>(::getpid()); }

std::uint64_t Machine::count_words(const std::string& text) {
  std::uint64_t words = 0;
  bool in_word = false;
  int reported = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    bool letter = !std::isspace(static_cast<unsigned char>(text[i]));
    if (letter && !in_word) ++words;
    in_word = letter;
    int percent = static_cast<int>((i + 1) * 10 / text.size()) * 10;
    if (percent > reported) progress(reported = percent);
  }
  return words;
}

}  // namespace demo
