#pragma once

// How a sandboxed child dies when it calls a syscall its filter traps, and
// the words of the parent's error: shared by the child, which reports the
// syscall (child/sandbox.cpp), and the parent, which names it.

#include <cstdint>
#include <string>

namespace procxy::detail {

// The exit code of a child its sandbox killed (child/exit_codes.h lists the others).
inline constexpr int kExitSandboxed = 73;

// What a sandboxed child's kSandboxed frame carries: the audit architecture
// of the syscall it was killed for, and its number there.
std::uint64_t trapped_syscall(std::uint32_t arch, int number);

// "ptrace (syscall 101)"; "syscall 999" for one libseccomp does not know.
std::string describe_trapped_syscall(std::uint64_t trapped);

// The sentence a parent's error gives for a child its sandbox killed for
// `trapped` (nothing known: the child said nothing).
std::string sandbox_kill_text(const std::uint64_t* trapped);

}  // namespace procxy::detail
