#include "sandbox_death.h"

#include <seccomp.h>

#include <cstdlib>

namespace procxy::detail {
namespace {

// Empty for a syscall libseccomp does not know.
std::string name_of(std::uint64_t trapped) {
  auto arch = static_cast<std::uint32_t>(trapped >> 32);
  auto number = static_cast<int>(static_cast<std::uint32_t>(trapped));
  char* resolved = ::seccomp_syscall_resolve_num_arch(arch, number);
  std::string name = resolved ? resolved : "";
  std::free(resolved);
  return name;
}

}  // namespace

std::uint64_t trapped_syscall(std::uint32_t arch, int number) {
  return (std::uint64_t{arch} << 32) | static_cast<std::uint32_t>(number);
}

std::string describe_trapped_syscall(std::uint64_t trapped) {
  std::string number = "syscall " + std::to_string(static_cast<std::uint32_t>(trapped));
  std::string name = name_of(trapped);
  return name.empty() ? number : name + " (" + number + ")";
}

std::string sandbox_kill_text(const std::uint64_t* trapped) {
  if (!trapped) {
    return "the child's sandbox (Options::sandbox) killed it for a syscall it does not allow (its stderr names "
           "the syscall; the parent did not hear which)";
  }
  std::string text = "the child's sandbox (Options::sandbox) killed it: it called " +
                     describe_trapped_syscall(*trapped) + ", which the sandbox does not allow";
  std::string name = name_of(*trapped);
  if (!name.empty()) text += "; if the object must, add \"" + name + "\" to Options::sandbox.allow_syscalls";
  return text;
}

}  // namespace procxy::detail
