#pragma once

// The class the remote example runs on another machine: it says where it
// runs and does some work there.

#include <procxy/annotate.h>

#include <cstdint>
#include <string>
#include <vector>

namespace demo {

class PROCXY_REMOTE Machine {
 public:
  Machine() = default;

  // The name of the machine the object runs on, and its pid there.
  std::string hostname() const;
  std::int32_t pid() const;
  // The words of `text` counted on the other machine; progress() reports each tenth.
  std::uint64_t count_words(const std::string& text);
  PROCXY_EVENT void progress(int percent);
};

}  // namespace demo
