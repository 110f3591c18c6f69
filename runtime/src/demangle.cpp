#include "demangle.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace procxy::detail {

std::string demangle(const char* name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> text(abi::__cxa_demangle(name, nullptr, nullptr, &status), std::free);
  return status == 0 && text ? text.get() : name;
}

}  // namespace procxy::detail
