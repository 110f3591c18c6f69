// Built without debug information (-g0, tests/e2e/CMakeLists.txt): the
// child's stack must name these functions without claiming a file and line.

#include <stdexcept>
#include <string>

#include "service.h"

namespace e2e {
namespace {

[[gnu::noinline]] void deep_without_line_info(const std::string& message) { throw std::runtime_error(message); }

}  // namespace

void Service::throw_without_line_info(const std::string& message) {
  deep_without_line_info(message);
  increment();  // not a tail call: this frame stays on the stack
}

}  // namespace e2e
