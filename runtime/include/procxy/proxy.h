#pragma once

// procxy::Proxy<T>: the parent's handle on an object living in a child.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "procxy/options.h"

namespace procxy {

// How a child ended. Exactly one field is set, unless the status could not be
// collected (the application set SIGCHLD to SIG_IGN).
struct ExitStatus {
  std::optional<int> exit_code;  // the child exited with this code
  std::optional<int> signal;     // a signal killed the child

  // "exited with code 3", "killed by signal 11 (Segmentation fault)".
  std::string to_string() const;
};

// The methods of T, called in the child and blocking for their results.
// procxy-gen writes a specialization for every PROCXY_REMOTE class.
template <class T>
class Methods;

// The methods of T, each returning a std::future of its result.
template <class T>
class AsyncMethods;

namespace detail {

class Connection;

// What generated Methods<T>/AsyncMethods<T> specializations derive from: the
// connection the calls go to and the options that apply to them. The
// accessors carry a procxy_ prefix so that no user method or parameter name
// hides them in generated code.
class MethodsBase {
 public:
  MethodsBase(std::shared_ptr<Connection> connection, CallOptions options)
      : connection_(std::move(connection)), options_(std::move(options)) {}

 protected:
  Connection& procxy_connection() const { return *connection_; }
  const CallOptions& procxy_call_options() const { return options_; }

 private:
  std::shared_ptr<Connection> connection_;
  CallOptions options_;
};

// A short-lived holder of a method table, as returned by async() and with().
template <class M>
class Scope {
 public:
  Scope(std::shared_ptr<Connection> connection, CallOptions options)
      : methods_(std::move(connection), std::move(options)) {}
  M* operator->() const { return &methods_; }

 private:
  mutable M methods_;
};

template <class T>
class CallScope : public Scope<Methods<T>> {
 public:
  CallScope(std::shared_ptr<Connection> connection, CallOptions options)
      : Scope<Methods<T>>(connection, options), connection_(std::move(connection)), options_(std::move(options)) {}
  Scope<AsyncMethods<T>> async() const { return {connection_, options_}; }

 private:
  std::shared_ptr<Connection> connection_;
  CallOptions options_;
};

// The class-independent half of Proxy<T>: the child's lifecycle.
class ProxyBase {
 public:
  explicit ProxyBase(std::shared_ptr<Connection> connection) : connection_(std::move(connection)) {}

  // The child's process id.
  pid_t pid() const;
  // False once the child has exited or the proxy was terminated.
  bool alive() const;
  // Asks the child to exit, kills it if it has not after `grace`, and blocks
  // until it is gone. Pending and later calls fail with TerminatedError.
  void terminate(std::chrono::milliseconds grace = std::chrono::seconds(1)) const;
  // Kills the child with SIGKILL and blocks until it is gone. Pending and later
  // calls fail with TerminatedError.
  void kill() const;
  // Blocks until the child has exited, for whatever reason, and says how.
  ExitStatus wait() const;

 protected:
  const std::shared_ptr<Connection>& connection() const { return connection_; }

 private:
  std::shared_ptr<Connection> connection_;
};

}  // namespace detail

// A copyable handle on a T constructed in a child process (shared ownership).
// When the last handle (including copies held by async()/with() scopes) is
// destroyed, the child is asked to exit and killed if it has not within 1 s.
// Calls may be made from any number of threads at once; the child runs them one
// at a time in arrival order.
template <class T>
class Proxy : public detail::ProxyBase {
 public:
  explicit Proxy(std::shared_ptr<detail::Connection> connection)
      : ProxyBase(connection), methods_(connection, CallOptions{}) {}

  // p->m(args...): calls T::m in the child and blocks for the result.
  Methods<T>* operator->() const { return &methods_; }
  // p.async()->m(args...): returns std::future<R> at once.
  detail::Scope<AsyncMethods<T>> async() const { return {connection(), CallOptions{}}; }
  // p.with(options)->m(...) and p.with(options).async()->m(...).
  detail::CallScope<T> with(CallOptions options) const { return {connection(), std::move(options)}; }

 private:
  mutable Methods<T> methods_;
};

}  // namespace procxy
