#pragma once

// Where procxy's diagnostic lines go (SPEC §8, §14). PROCXY_DEBUG
// (spawn,call,event,dedup,coalesce,attach,sandbox or all) chooses which lines are
// written; a few are written whatever it says (a listener that threw, an
// unknown PROCXY_DEBUG category). By default they go to stderr, as
// "procxy[<pid>] <UTC time> <category>: <text>".

#include <functional>
#include <string_view>

#include "procxy/export.h"

namespace procxy {

// Receives one line at a time: its category ("call", "event", ...) and its
// text, without the pid, the time or a newline (a logger adds its own).
using LogSink = std::function<void(std::string_view category, std::string_view line)>;

// Sends this process's procxy lines to `sink` instead of stderr; an empty
// sink restores stderr. Calls to the sink are serialized, and once
// set_log_sink returns the previous sink is not running. The sink runs on
// whichever runtime thread logs, sometimes while the runtime holds a lock:
// it must not call procxy (a line it causes goes to stderr), and what it
// throws is dropped. A child's lines are written by the child, to its stderr
// (Options::output decides where that goes).
PROCXY_EXPORT void set_log_sink(LogSink sink);

}  // namespace procxy
