#pragma once

// Landlock (landlock(7)): the paths a sandboxed child may still open, and,
// where the kernel has it, no TCP bind or connect and no abstract unix
// sockets or signals beyond its own domain. Raw syscalls: glibc has no
// wrappers, and the ABI is detected at run time, so that one build uses what
// each kernel offers.

#include <string>
#include <vector>

namespace procxy::detail {

// The Landlock ABI version of this kernel; 0 when it has none (or it is
// disabled at boot).
int landlock_abi();

struct PathRule {
  enum Access { kRead, kReadWrite };
  std::string path;
  Access access = kRead;
  // Where the user gave it ("Options::sandbox.read_only[0]"), for errors;
  // empty for the runtime's own, which are passed over when missing.
  std::string origin;
};

struct LandlockRules {
  std::vector<PathRule> paths;
  bool network = false;  // else TCP bind and connect are denied (ABI 4)
  bool exec = false;     // else executing files is denied
};

// Restricts every thread of this process to `rules`; this thread must have
// set no_new_privs. Throws procxy::Error,
// naming the path or the thread at fault, when it cannot; the process is
// then unchanged, or (a thread that never answered) must not serve.
// Returns what engaged, for PROCXY_DEBUG=sandbox.
std::string restrict_paths(const LandlockRules& rules, int abi);

}  // namespace procxy::detail
