// The C++ ABI's throw entry point, wrapped: a child records where it threw,
// then the real __cxa_throw (the C++ runtime's, or a sanitizer's) runs.
// The definition in the program, or in a shared libprocxy_runtime (exported,
// and loaded before the C++ runtime), takes precedence over the C++
// runtime's, for throws from other shared libraries too. This file must not throw:
// a throw expression would declare __cxa_throw itself.

#include <cxxabi.h>
#include <dlfcn.h>

#include "child/throw_stack.h"
#include "side.h"

namespace procxy::detail {
// Referenced by throw_stack(), so that a static link always takes this file,
// even when a sanitizer's runtime has already provided __cxa_throw.
extern const bool kThrowHookLinked = true;
}  // namespace procxy::detail

extern "C" __attribute__((visibility("default"))) void __cxa_throw(void* object, std::type_info* type,
                                                                   void (*destroy)(void*)) {
  using Throw = void (*)(void*, std::type_info*, void (*)(void*));
  static const Throw next = reinterpret_cast<Throw>(::dlsym(RTLD_NEXT, "__cxa_throw"));
  if (procxy::detail::in_child()) procxy::detail::record_throw(object, type);
  next(object, type, destroy);
  __builtin_unreachable();
}
