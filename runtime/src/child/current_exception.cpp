#include "child/current_exception.h"

#include <cxxabi.h>

#include <exception>
#include <typeinfo>

#include "child/throw_stack.h"
#include "demangle.h"
#include "wire/failure.h"

namespace procxy::detail {

void encode_current_exception(capnp::MessageBuilder& message) {
  try {
    throw;
  } catch (const std::exception& e) {
    encode_exception(message, demangle(typeid(e).name()), e.what(), throw_stack(&typeid(e), &e));
  } catch (...) {
    std::type_info* type = abi::__cxa_current_exception_type();
    encode_exception(message, type ? demangle(type->name()) : "unknown", "", throw_stack(type, nullptr));
  }
}

}  // namespace procxy::detail
