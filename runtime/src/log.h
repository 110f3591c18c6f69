#pragma once

// PROCXY_DEBUG=spawn,call,event,dedup,coalesce,attach (or all): diagnostic
// lines on stderr, prefixed "procxy[<pid>]". Checking is one load of a
// cached mask, so disabled logging costs nothing on the call path.

namespace procxy::detail {

enum class LogCategory : unsigned {
  kSpawn = 1u << 0,
  kCall = 1u << 1,
  kEvent = 1u << 2,
  kDedup = 1u << 3,
  kCoalesce = 1u << 4,
  kAttach = 1u << 5,
};

bool log_enabled(LogCategory category);

// printf-style; one line, newline added.
void log(LogCategory category, const char* format, ...) __attribute__((format(printf, 2, 3)));

}  // namespace procxy::detail
