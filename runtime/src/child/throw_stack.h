#pragma once

// The child's stack at the throw site, for RemoteError::remote_stack().
//
// A child records the stack of every throw on its thread (procxy interposes
// __cxa_throw; the recording costs a stack walk, and only in a child). When a
// call fails, the stub's catch asks for the stack of the exception in flight
// and gets it symbolized: function, file and line, from the DWARF debug
// information where the program has it.

#include <string>
#include <typeinfo>

namespace procxy::detail {

extern const bool kThrowHookLinked;  // defined next to the wrapper

// Called by the __cxa_throw wrapper (throw_hook.cpp), in a child only.
void record_throw(const void* object, const std::type_info* type);

// The symbolized stack of the latest throw on this thread, if it threw an
// exception of `type` (at `object`, when known); empty otherwise.
std::string throw_stack(const std::type_info* type, const void* object);

}  // namespace procxy::detail
