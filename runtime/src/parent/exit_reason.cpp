#include "parent/exit_reason.h"

#include <signal.h>

namespace procxy::detail {

std::string limit_reason(const ExitStatus& status, const Limits& limits) {
  // The kernel sends SIGXCPU at the soft limit (the hard one, a second later,
  // is SIGKILL, which says nothing of why).
  if (limits.cpu && status.signal == SIGXCPU) {
    return "the child exceeded its CPU time limit of " + std::to_string(limits.cpu->count()) +
           " s (Options::limits.cpu, RLIMIT_CPU)";
  }
  return "";
}

}  // namespace procxy::detail
