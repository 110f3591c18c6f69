#pragma once

// The seccomp-bpf filter of a sandboxed child (libseccomp): what the runtime
// and ordinary computation need is allowed; dangerous syscalls (ptrace,
// mount, bpf, ...) raise SIGSYS, which kills the child after it told the
// parent; everything else fails with EPERM. docs/sandbox.md lists it all.

#include <string>
#include <vector>

namespace procxy::detail {

struct FilterRules {
  bool network = false;            // socket (AF_INET, AF_INET6), connect, bind, listen
  bool exec = false;               // execve, execveat, and new processes
  int landlock_abi = 0;            // what Landlock confines decides what the filter must
  std::vector<std::string> allow;  // Options::sandbox.allow_syscalls: allowed whatever the lists say
};

// Whether this kernel filters syscalls with seccomp-bpf and traps with SIGSYS.
bool seccomp_available();

// The syscalls the filter kills the process for, by name.
std::vector<const char*> trapped_syscall_names();

// Loads the filter into every thread of this process (and what they start
// later). Throws procxy::Error when it cannot. Returns what engaged, for
// PROCXY_DEBUG=sandbox.
std::string filter_syscalls(const FilterRules& rules);

}  // namespace procxy::detail
