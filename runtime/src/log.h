#pragma once

// PROCXY_DEBUG=spawn,call,event,dedup,coalesce,attach,sandbox (or all): diagnostic
// lines, to stderr or to the sink of procxy::set_log_sink. Checking is one
// load of a cached mask, so disabled logging costs nothing on the call path.

namespace procxy::detail {

enum class LogCategory : unsigned {
  kSpawn = 1u << 0,
  kCall = 1u << 1,
  kEvent = 1u << 2,
  kDedup = 1u << 3,
  kCoalesce = 1u << 4,
  kAttach = 1u << 5,
  kSandbox = 1u << 6,
};

bool log_enabled(LogCategory category);

// printf-style; one line, newline added. Written when PROCXY_DEBUG enables
// `category`.
void log(LogCategory category, const char* format, ...) __attribute__((format(printf, 2, 3)));

// As log(), whatever PROCXY_DEBUG says: for what a user must hear of (a
// listener that threw).
void log_always(LogCategory category, const char* format, ...) __attribute__((format(printf, 2, 3)));

// Reports, once per process, the PROCXY_DEBUG categories it does not know.
// Called where a parent starts children, so that children, which inherit
// the variable, do not repeat it.
void warn_unknown_log_categories();

}  // namespace procxy::detail
