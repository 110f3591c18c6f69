#include "log.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>

#include "mutex.h"
#include "procxy/log.h"

namespace procxy::detail {
namespace {

struct Category {
  const char* name;
  LogCategory category;
};
constexpr Category kCategories[] = {
    {"spawn", LogCategory::kSpawn},     {"call", LogCategory::kCall},         {"event", LogCategory::kEvent},
    {"dedup", LogCategory::kDedup},     {"coalesce", LogCategory::kCoalesce}, {"attach", LogCategory::kAttach},
    {"sandbox", LogCategory::kSandbox},
};

struct Parsed {
  unsigned mask = 0;
  std::string unknown;  // "'foo', 'bar'"
};

Parsed parse(const char* value) {
  Parsed parsed;
  if (!value) return parsed;
  std::string list = value;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string item = list.substr(start, end - start);
    bool known = item == "all" || item.empty();
    if (item == "all") parsed.mask = ~0u;
    for (const Category& c : kCategories) {
      if (item == c.name) {
        parsed.mask |= static_cast<unsigned>(c.category);
        known = true;
      }
    }
    if (!known) parsed.unknown += (parsed.unknown.empty() ? "'" : ", '") + item + "'";
    start = end + 1;
  }
  return parsed;
}

const Parsed& debug_setting() {
  static const Parsed parsed = parse(std::getenv("PROCXY_DEBUG"));
  return parsed;
}

const char* name_of(LogCategory category) {
  for (const Category& c : kCategories) {
    if (c.category == category) return c.name;
  }
  return "?";
}

// The sink, and the lock that serializes its calls. Leaked: threads may log
// while static destructors run.
struct SinkState {
  Mutex mutex;
  LogSink sink PROCXY_GUARDED_BY(mutex);
};
SinkState& sink_state() {
  static SinkState* state = new SinkState();
  return *state;
}

// Set while this thread runs the sink: a line the sink causes goes to stderr
// instead of deadlocking on the sink's lock.
thread_local bool in_sink = false;

void write_to_stderr(LogCategory category, const char* text) {
  timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  tm utc;
  ::gmtime_r(&now.tv_sec, &utc);
  char time[32];
  std::strftime(time, sizeof time, "%Y-%m-%dT%H:%M:%S", &utc);
  char line[1200];
  int length = std::snprintf(line, sizeof line - 1, "procxy[%d] %s.%06ldZ %s: %s", static_cast<int>(getpid()), time,
                             now.tv_nsec / 1000, name_of(category), text);
  if (length < 0) return;
  size_t size = std::min(static_cast<size_t>(length), sizeof line - 2);
  line[size] = '\n';
  // One write per line keeps lines of concurrent threads and processes whole.
  [[maybe_unused]] ssize_t written = ::write(STDERR_FILENO, line, size + 1);
}

void emit(LogCategory category, const char* format, va_list args) {
  char text[1024];
  std::vsnprintf(text, sizeof text, format, args);
  if (!in_sink) {
    SinkState& state = sink_state();
    MutexLock lock(state.mutex);
    if (state.sink) {
      in_sink = true;
      try {
        state.sink(name_of(category), text);
      } catch (...) {
        // Dropped, as documented: the caller is a runtime thread with no one to tell.
      }
      in_sink = false;
      return;
    }
  }
  write_to_stderr(category, text);
}

}  // namespace

bool log_enabled(LogCategory category) {
  static const unsigned mask = debug_setting().mask;
  return (mask & static_cast<unsigned>(category)) != 0;
}

void log(LogCategory category, const char* format, ...) {
  if (!log_enabled(category)) return;
  va_list args;
  va_start(args, format);
  emit(category, format, args);
  va_end(args);
}

void log_always(LogCategory category, const char* format, ...) {
  va_list args;
  va_start(args, format);
  emit(category, format, args);
  va_end(args);
}

void warn_unknown_log_categories() {
  static std::once_flag once;
  std::call_once(once, [] {
    const std::string& unknown = debug_setting().unknown;
    if (unknown.empty()) return;
    // Not through a sink: the setting is the environment's, and so is its error.
    std::string text =
        "procxy: parent: PROCXY_DEBUG names unknown categories " + unknown +
        ", which are ignored; the categories are spawn, call, event, dedup, coalesce, attach, sandbox and all\n";
    [[maybe_unused]] ssize_t written = ::write(STDERR_FILENO, text.data(), text.size());
  });
}

}  // namespace procxy::detail

namespace procxy {

void set_log_sink(LogSink sink) {
  detail::SinkState& state = detail::sink_state();
  LogSink old;
  {
    detail::MutexLock lock(state.mutex);
    old = std::exchange(state.sink, std::move(sink));
  }
  // Destroyed outside the lock: its captures may log.
}

}  // namespace procxy
