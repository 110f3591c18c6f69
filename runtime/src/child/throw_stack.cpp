#include "child/throw_stack.h"

#define BACKWARD_HAS_DW 1
#include <backward.hpp>
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
    std::string where = frame.source.filename.empty() ? frame.object_filename
                                                      : frame.source.filename + ':' + std::to_string(frame.source.line);
    append_frame(out, number++, frame.object_function, where, "");
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
