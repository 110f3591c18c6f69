#include "parent/owner.h"

#include <unistd.h>

#include <string>

#include "procxy/errors.h"

namespace procxy::detail {

ProcessOwner::ProcessOwner() : pid_(::getpid()) {}

bool ProcessOwner::here() const { return ::getpid() == pid_; }

void ProcessOwner::check(const char* what) const {
  pid_t self = ::getpid();
  if (self == pid_) return;
  std::string me = std::to_string(self);
  throw Error("procxy: process " + me + ": this " + what + " belongs to process " + std::to_string(pid_) +
              "; process " + me +
              " is a fork of it without exec, where it is inert (calls through it fail, "
              "destroying it does nothing): spawn the child you need in this process, or exec() after fork()");
}

}  // namespace procxy::detail
