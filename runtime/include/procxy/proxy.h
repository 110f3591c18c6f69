#pragma once

// procxy::Proxy<T>: the parent's handle on an object living in a child.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "procxy/export.h"
#include "procxy/options.h"

namespace procxy {

// How a child ended. Exactly one field is set, unless the status could not be
// collected (the application set SIGCHLD to SIG_IGN).
struct PROCXY_EXPORT ExitStatus {
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
class CallTarget;
class Connection;
class Listeners;
class PoolBase;
class ProxyBase;
struct EventListener;

// Specialized by generated code: the class's wire name, interface hash, one
// construct() overload per constructor form, and its events. Not for direct use.
// The primary template is empty rather than undefined, so that kHasProxy can
// ask for a member without making ClassTraits<T> an incomplete type.
template <class T>
struct ClassTraits {};

// Whether procxy-gen wrote T's proxy and the translation unit includes it.
template <class T>
inline constexpr bool kHasProxy = requires {
  ClassTraits<T>::kInterfaceHash;
};

}  // namespace detail

// A listener added by Proxy::on(), once() or on_exit(). A copyable,
// non-owning handle: destroying it leaves the listener in place; off() removes
// it. A listener that owns a copy of its own proxy keeps the child alive until
// it is removed.
class PROCXY_EXPORT Subscription {
 public:
  Subscription() = default;

  // Removes the listener: it never runs again, and when off() returns it is
  // not running on another thread (called from the handler itself, that run
  // finishes). Idempotent; does nothing once the proxy is gone.
  void off();
  // False after off(), after a once() listener ran, and once the proxy is gone.
  bool active() const;

 private:
  friend class detail::ProxyBase;
  friend class detail::PoolBase;
  Subscription(std::weak_ptr<detail::Listeners> hub, std::uint64_t id) : hub_(std::move(hub)), id_(id) {}

  std::weak_ptr<detail::Listeners> hub_;
  std::uint64_t id_ = 0;
};

namespace detail {

class MethodsBase;

// The bodies of generated Methods<T> and AsyncMethods<T> methods, defined in
// generated_support.h.
template <class Form, class... Args>
auto invoke(const MethodsBase& methods, Args&&... args);
template <class Form, class... Args>
auto invoke_async(const MethodsBase& methods, Args&&... args);

// A Proxy's calls go to its connection, a Pool's to the pool.
PROCXY_EXPORT std::shared_ptr<CallTarget> call_target(const std::shared_ptr<Connection>& connection);

// What generated Methods<T>/AsyncMethods<T> specializations derive from: the
// target the calls go to and the options that apply to them. The
// accessors are private, for invoke() and invoke_async(): a member of
// Methods<T> is a method of T, and carries T's names only.
class MethodsBase {
 public:
  MethodsBase(std::shared_ptr<CallTarget> target, CallOptions options)
      : target_(std::move(target)), options_(std::move(options)) {}

 private:
  template <class Form, class... Args>
  friend auto invoke(const MethodsBase& methods, Args&&... args);
  template <class Form, class... Args>
  friend auto invoke_async(const MethodsBase& methods, Args&&... args);

  CallTarget& procxy_target() const { return *target_; }
  const CallOptions& procxy_call_options() const { return options_; }

  std::shared_ptr<CallTarget> target_;
  CallOptions options_;
};

// A short-lived holder of a method table, as returned by async() and with().
template <class M>
class Scope {
 public:
  Scope(std::shared_ptr<CallTarget> target, CallOptions options) : methods_(std::move(target), std::move(options)) {}
  M* operator->() const { return &methods_; }

 private:
  mutable M methods_;
};

template <class T>
class CallScope : public Scope<Methods<T>> {
 public:
  CallScope(std::shared_ptr<CallTarget> target, CallOptions options)
      : Scope<Methods<T>>(target, options), target_(std::move(target)), options_(std::move(options)) {}
  Scope<AsyncMethods<T>> async() const { return {target_, options_}; }

 private:
  std::shared_ptr<CallTarget> target_;
  CallOptions options_;
};

// The class-independent half of Proxy<T>: the child's lifecycle.
class PROCXY_EXPORT ProxyBase {
 public:
  explicit ProxyBase(std::shared_ptr<Connection> connection)
      : connection_(std::move(connection)), target_(call_target(connection_)) {}

  // The child's process id; with Options::launcher, the launcher's (ssh's).
  pid_t pid() const;
  // The child's process id on its own machine: pid() unless Options::launcher
  // started it elsewhere.
  pid_t remote_pid() const;
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
  // Runs handler(status) on the runtime's delivery thread when the child
  // exits, after every event it emitted (at once if it already has). With
  // Options::restart it runs for every child that dies.
  Subscription on_exit(std::function<void(const ExitStatus&)> handler) const;

 protected:
  const std::shared_ptr<Connection>& connection() const { return connection_; }
  const std::shared_ptr<CallTarget>& target() const { return target_; }
  Subscription subscribe(EventListener&& listener, bool once) const;

 private:
  std::shared_ptr<Connection> connection_;
  std::shared_ptr<CallTarget> target_;  // the same object as connection_
};

// The calls and events of T through a CallTarget, for Proxy<T> and Pool<T>:
// `Base` (ProxyBase or PoolBase) provides target() and subscribe().
template <class T, class Base>
class Handle : public Base {
  // The one error for spawn<T>(), attach<T>(), pool<T>() and Proxy<T> of a
  // class without a proxy (the compiler's note names T): what needs the proxy
  // compiles to a stand-in for such a T, so that this is not the first of pages.
  static_assert(kHasProxy<T>,
                "procxy: no procxy proxy for this class: add its header to procxy_generate(TARGET ... HEADERS ...) "
                "and include the generated <header>.procxy.h");

 public:
  template <class Core>
  explicit Handle(Core core) : Base(std::move(core)), methods_(this->target(), CallOptions{}) {}

  // p->m(args...): calls T::m in the child and blocks for the result.
  Methods<T>* operator->() const {
    if constexpr (kHasProxy<T>) {
      return &methods_;
    } else {
      return nullptr;  // the static_assert above has failed
    }
  }
  // p.async()->m(args...): returns std::future<R> at once.
  Scope<AsyncMethods<T>> async() const { return {this->target(), CallOptions{}}; }
  // p.with(options)->m(...) and p.with(options).async()->m(...).
  CallScope<T> with(CallOptions options) const { return {this->target(), std::move(options)}; }

  // p.on(&T::event, handler): runs handler(args...) for each event the child
  // emits, on the runtime's delivery thread: one handler at a time, in the
  // order the child emitted, each event before the results of calls that
  // returned after it. The handler is called with const references to the
  // event's parameters. A handler may call this proxy, add and remove
  // listeners; one that throws is logged (PROCXY_DEBUG=event) and skipped.
  // Returns at once, except for a shared child (attach()): then it blocks
  // until the child confirms, so that calls any client makes afterwards
  // send the event here, and throws TimeoutError (adding nothing) when the
  // child does not confirm within Options::timeout.
  template <class... A, class H>
  Subscription on(void (T::*event)(A...), H handler) const {
    return listen<A...>(event, std::move(handler), false);
  }
  template <class... A, class H>
  Subscription on(void (T::*event)(A...) const, H handler) const {
    return listen<A...>(event, std::move(handler), false);
  }
  // As on(), for the next event only.
  template <class... A, class H>
  Subscription once(void (T::*event)(A...), H handler) const {
    return listen<A...>(event, std::move(handler), true);
  }
  template <class... A, class H>
  Subscription once(void (T::*event)(A...) const, H handler) const {
    return listen<A...>(event, std::move(handler), true);
  }

 private:
  template <class... A, class E, class H>
  Subscription listen(E event, H handler, bool once) const {
    if constexpr (!kHasProxy<T>) {
      return {};  // the static_assert above has failed
    } else {
      return listen_event<A...>(event, std::move(handler), once);
    }
  }

  template <class... A, class E, class H>
  Subscription listen_event(E event, H handler, bool once) const {
    using Traits = ClassTraits<T>;
    constexpr bool kIsEvent = Traits::template kIsEvent<E>;
    constexpr bool kCallable = std::is_invocable_v<H&, const std::decay_t<A>&...>;
    static_assert(kIsEvent, "procxy: on()/once() take a PROCXY_EVENT of the proxy's class, and no event has this type");
    static_assert(kCallable, "procxy: the handler cannot be called with the event's parameters (as const references)");
    if constexpr (kIsEvent && kCallable) {
      return this->subscribe(Traits::listen(event, std::function<void(const std::decay_t<A>&...)>(std::move(handler))),
                             once);
    } else {
      return {};
    }
  }

  // A stand-in for a T without a proxy, whose Methods<T> is incomplete.
  mutable std::conditional_t<kHasProxy<T>, Methods<T>, MethodsBase> methods_;
};

}  // namespace detail

// A copyable handle on a T constructed in a child process (shared ownership).
// When the last handle (including copies held by async()/with() scopes) is
// destroyed, the child is asked to exit and killed if it has not within 1 s.
// Calls may be made from any number of threads at once; the child runs them one
// at a time in arrival order.
template <class T>
class Proxy : public detail::Handle<T, detail::ProxyBase> {
 public:
  explicit Proxy(std::shared_ptr<detail::Connection> connection)
      : detail::Handle<T, detail::ProxyBase>(std::move(connection)) {}
};

}  // namespace procxy
