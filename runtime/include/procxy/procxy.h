#pragma once

// The procxy API: spawn<T>(), attach<T>(), serve_if_child(), children().
// Generated *.procxy.h files include this; applications include those.

#include <sys/types.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <stop_token>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "procxy/errors.h"
#include "procxy/export.h"
#include "procxy/log.h"
#include "procxy/options.h"
#include "procxy/proxy.h"
#include "procxy/version.h"

namespace procxy {

// Call first thing in main(). In an ordinary process it returns at once. In a
// process that procxy started it constructs the requested object, serves calls
// until the parent lets go, and exits the process without returning.
//
// A program that spawns children of itself but never calls this function is
// caught before its main() runs again: spawn() throws SpawnError naming the
// missing call.
PROCXY_EXPORT void serve_if_child(int argc, char** argv);

// The pids of this process's live children, in ascending order.
PROCXY_EXPORT std::vector<pid_t> children();

// In a child, on the thread running a call from the parent: a token whose
// stop is requested once no caller waits for the call any more (every caller
// of a shared query cancelled its stop token, or the call timed out). A long
// call can poll it, or wait on it, and give up early; its result then goes
// nowhere. Anywhere else: a token that never stops. Throws procxy::Error in
// the rare child that has no file descriptor left for the wake-up it needs
// (with Options::concurrency 1, the first time a call asks).
PROCXY_EXPORT std::stop_token call_stop_token();

namespace detail {
struct Construction;
PROCXY_EXPORT std::shared_ptr<Connection> spawn(const Options& options, std::string_view class_name,
                                                std::uint64_t interface_hash, Construction construction);
PROCXY_EXPORT std::shared_ptr<Connection> attach(const Options& options, std::string_view name,
                                                 std::string_view class_name, std::uint64_t interface_hash,
                                                 Construction construction);

template <class First, class... Rest>
inline constexpr bool kIsOptions = std::is_same_v<std::remove_cvref_t<First>, Options>;

// Whether spawn<T>(args...) and attach<T>() can construct a T from Args.
// False only once a static_assert has said why: Proxy<T>'s when T has no
// proxy, the generated ClassTraits<T>::accepts<Args...>() (which lists T's
// constructors, and whose instantiation names Args) when no constructor takes
// them. Then spawn() compiles to a stand-in, so that no overload resolution
// failure follows the message.
template <class T, class... Args>
consteval bool constructible() {
  if constexpr (kHasProxy<T>) {
    return ClassTraits<T>::template accepts<Args...>();
  } else {
    return false;
  }
}
}  // namespace detail

// Starts a child, constructs T(args...) in it and returns once the object
// exists. Throws SpawnError when the child cannot be started or the
// constructor throws (then the error is also a RemoteError). Blocks for at most
// options.timeout.
template <class T, class... Args>
Proxy<T> spawn(const Options& options, [[maybe_unused]] Args&&... args) {
  if constexpr (detail::constructible<T, Args...>()) {
    using Traits = detail::ClassTraits<T>;
    return Proxy<T>(
        detail::spawn(options, Traits::kName, Traits::kInterfaceHash, Traits::construct(std::forward<Args>(args)...)));
  } else {
    std::terminate();  // never compiled into a program: a static_assert has failed
  }
}

template <class T, class... Args>
requires(sizeof...(Args) == 0 || !detail::kIsOptions<Args...>) Proxy<T> spawn(Args&&... args) {
  return spawn<T>(Options{}, std::forward<Args>(args)...);
}

// Connects to the shared child called `name` that serves a T for this user,
// starting it (constructing T(args...)) when none runs; see
// docs/shared-children.md. Any number of processes may call it at once:
// exactly one starts the child, the others wait until it answers. The child
// outlives the process that started it and exits once no client has been
// connected for options.idle_exit. Options that shape the child (executable,
// args, env, cwd, concurrency, idle_exit) and the constructor arguments apply
// only when this call starts it.
//
// Destroying the last handle, or terminate(), disconnects this process and
// leaves the child to its other clients; kill() kills it for all of them.
// Throws SpawnError when no child answers within options.timeout, or when the
// child refuses this process (built from another interface of T, or running
// as another user).
template <class T, class... Args>
Proxy<T> attach(std::string_view name, const Options& options, [[maybe_unused]] Args&&... args) {
  if constexpr (detail::constructible<T, Args...>()) {
    using Traits = detail::ClassTraits<T>;
    return Proxy<T>(detail::attach(options, name, Traits::kName, Traits::kInterfaceHash,
                                   Traits::construct(std::forward<Args>(args)...)));
  } else {
    std::terminate();  // never compiled into a program: a static_assert has failed
  }
}

}  // namespace procxy

#include "procxy/pool.h"  // IWYU pragma: export
