#pragma once

// The exceptions procxy throws. Every message says where the failure happened
// ("parent" or "child <pid>"), what happened, and what to do about it.

#include <optional>
#include <stdexcept>
#include <string>

#include "procxy/export.h"

namespace procxy {

// Base of procxy's own failures.
class PROCXY_EXPORT Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The child could not be started, the class is unknown there, the interface
// differs, or its constructor threw (then the exception is also a RemoteError).
class PROCXY_EXPORT SpawnError : public Error {
 public:
  using Error::Error;
};

// A call exceeded its timeout. The child keeps running unless
// Options::kill_on_timeout is set.
class PROCXY_EXPORT TimeoutError : public Error {
 public:
  using Error::Error;
};

// The child died. Exactly one of exit_code() and signal() is set, unless the
// status could not be collected: the application ignores SIGCHLD, or the
// child is a shared one (attach()), which is not this process's to reap.
class PROCXY_EXPORT ChildExitedError : public Error {
 public:
  ChildExitedError(const std::string& what, std::optional<int> exit_code, std::optional<int> signal)
      : Error(what), exit_code_(exit_code), signal_(signal) {}
  std::optional<int> exit_code() const { return exit_code_; }
  std::optional<int> signal() const { return signal_; }

 private:
  std::optional<int> exit_code_;
  std::optional<int> signal_;
};

// The parent ended the child with terminate() or kill().
class PROCXY_EXPORT TerminatedError : public Error {
 public:
  using Error::Error;
};

// The caller's stop token fired before the result arrived.
class PROCXY_EXPORT CancelledError : public Error {
 public:
  using Error::Error;
};

// A malformed or unexpected message arrived; the connection is closed.
class PROCXY_EXPORT ProtocolError : public Error {
 public:
  using Error::Error;
};

// Mixed into every exception rethrown from the child. Not itself a
// std::exception, so that `catch (const std::exception&)` stays unambiguous.
class PROCXY_EXPORT RemoteError {
 public:
  RemoteError(std::string type_name, std::string message, std::string remote_stack)
      : type_name_(std::move(type_name)), message_(std::move(message)), remote_stack_(std::move(remote_stack)) {}
  virtual ~RemoteError() = default;

  // The demangled type of the exception thrown in the child.
  const std::string& type_name() const { return type_name_; }
  // The child's what(), unchanged.
  const std::string& message() const { return message_; }
  // The child's stack at the throw, where it could be captured.
  const std::string& remote_stack() const { return remote_stack_; }

 private:
  std::string type_name_;
  std::string message_;
  std::string remote_stack_;
};

// An exception of a type other than the standard ones of SPEC §3, rethrown
// from the child; type_name() names the original type.
class PROCXY_EXPORT RemoteException : public Error, public RemoteError {
 public:
  RemoteException(const std::string& what, RemoteError remote) : Error(what), RemoteError(std::move(remote)) {}
};

namespace detail {
// A standard exception type rethrown from the child: catchable as `Std` and
// as RemoteError.
template <class Std>
class PROCXY_EXPORT RemoteStd : public Std, public RemoteError {
 public:
  RemoteStd(const std::string& what, RemoteError remote) : Std(what), RemoteError(std::move(remote)) {}
};
}  // namespace detail

}  // namespace procxy
