#include "child/current_exception.h"

#include <cxxabi.h>
#include <sys/resource.h>

#include <exception>
#include <new>
#include <string>
#include <typeinfo>

#include "child/throw_stack.h"
#include "demangle.h"
#include "process/limits.h"
#include "wire/failure.h"

namespace procxy::detail {
namespace {

// What a std::bad_alloc says, and, under an address-space limit, that the
// limit is the likely cause: the kernel refuses the mapping, whatever memory
// the machine has free.
std::string out_of_memory(const std::string& type, const char* what) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_AS, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return what;
  std::string explanation = "the child's address space is limited to " + std::to_string(limit.rlim_cur) + " bytes";
  if (memory_limit_applied() == static_cast<std::uint64_t>(limit.rlim_cur)) {
    explanation += " (Options::limits.memory); raise the limit or use less memory";
  } else {
    explanation += " (RLIMIT_AS, inherited from the parent: `ulimit -v`); raise it or use less memory";
  }
  return what == type ? explanation : std::string(what) + "; " + explanation;
}

}  // namespace

void encode_current_exception(capnp::MessageBuilder& message) {
  try {
    throw;
  } catch (const std::bad_alloc& e) {
    std::string type = demangle(typeid(e).name());
    encode_exception(message, type, out_of_memory(type, e.what()), throw_stack(&typeid(e), &e));
  } catch (const std::exception& e) {
    encode_exception(message, demangle(typeid(e).name()), e.what(), throw_stack(&typeid(e), &e));
  } catch (...) {
    std::type_info* type = abi::__cxa_current_exception_type();
    encode_exception(message, type ? demangle(type->name()) : "unknown", "", throw_stack(type, nullptr));
  }
}

}  // namespace procxy::detail
