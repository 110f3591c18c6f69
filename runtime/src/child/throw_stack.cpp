#include "child/throw_stack.h"

#define BACKWARD_HAS_DW 1
#include <dlfcn.h>

#include <backward.hpp>
#include <cstdint>
#include <cstdio>
#include <string_view>

namespace procxy::detail {
namespace {

constexpr std::size_t kMaxFrames = 48;

struct LastThrow {
  const void* object = nullptr;
  const std::type_info* type = nullptr;
  backward::StackTrace trace;
};

thread_local LastThrow t_last_throw;

// One line of a stack: "#3 function at file:line". Built with appends:
// GCC 12's -Wrestrict misfires on chains of std::string operator+ at -O3.
void append_frame(std::string& out, int number, const std::string& function, const std::string& where,
                  const char* suffix) {
  out += '#';
  out += std::to_string(number);
  out += ' ';
  out += function.empty() ? std::string_view("??") : std::string_view(function);
  out += " at ";
  out += where;
  out += suffix;
  out += '\n';
}

// "file:line" where the debug information describes the function holding
// the address. Otherwise the object and the address's offset in it (what
// addr2line takes): backward then still finds a line, the nearest one of an
// unrelated compilation unit, and would print it as if it were true. A
// function that has debug information is found by name (the DWARF name is
// the short one, "add"); without it backward falls back to the symbol's,
// "demo::Calculator::add(int, int)". A C function's two names are the same,
// so its line is believed.
std::string where(const backward::ResolvedTrace& frame) {
  bool c_name = frame.object_function.find('(') == std::string::npos;
  bool described = !frame.source.filename.empty() && (c_name || frame.source.function != frame.object_function);
  if (described) return frame.source.filename + ':' + std::to_string(frame.source.line);
  std::string object = frame.object_filename.empty() ? std::string("??") : frame.object_filename;
  Dl_info info;
  if (::dladdr(frame.addr, &info) == 0 || !info.dli_fbase) return object;
  char offset[32];
  std::snprintf(offset, sizeof offset, "+0x%zx",
                reinterpret_cast<std::uintptr_t>(frame.addr) - reinterpret_cast<std::uintptr_t>(info.dli_fbase));
  return object + offset;
}

std::string format(backward::StackTrace& trace) {
  backward::TraceResolver resolver;
  resolver.load_stacktrace(trace);
  std::string out;
  bool above_throw = true;  // the frames of the recording itself come first: skip them
  int number = 0;
  for (std::size_t i = 0; i < trace.size(); ++i) {
    backward::ResolvedTrace frame = resolver.resolve(trace[i]);
    if (above_throw) {
      above_throw = frame.object_function != "__cxa_throw";
      continue;
    }
    for (auto inlined = frame.inliners.rbegin(); inlined != frame.inliners.rend(); ++inlined) {
      append_frame(out, number++, inlined->function, inlined->filename + ':' + std::to_string(inlined->line),
                   " (inlined)");
    }
    append_frame(out, number++, frame.object_function, where(frame), "");
  }
  return out;
}

}  // namespace

void record_throw(const void* object, const std::type_info* type) {
  t_last_throw.object = object;
  t_last_throw.type = type;
  t_last_throw.trace.load_here(kMaxFrames);
}

std::string throw_stack(const std::type_info* type, const void* object) {
  LastThrow& last = t_last_throw;
  if (!kThrowHookLinked || !last.type || !type || *last.type != *type || (object && object != last.object)) return "";
  return format(last.trace);
}

}  // namespace procxy::detail
