#pragma once

// procxy::Pool<T>: calls spread over a pool of children, each holding its own
// T (docs/pools.md).

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "procxy/export.h"
#include "procxy/options.h"
#include "procxy/procxy.h"
#include "procxy/proxy.h"

namespace procxy {
namespace detail {

class PoolCore;

// The class-independent half of Pool<T>: the children's lifecycle.
class PROCXY_EXPORT PoolBase {
 public:
  explicit PoolBase(std::shared_ptr<PoolCore> core);

  // The number of children the pool keeps running (PoolOptions::size, or one
  // per CPU).
  int size() const;
  // The process ids of the children taking calls now, a replacement's once
  // it serves.
  std::vector<pid_t> pids() const;
  // Asks every child to exit, kills those that have not after `grace`, and
  // blocks until all are gone. Pending and later calls fail with
  // TerminatedError; nothing is replaced any more.
  void terminate(std::chrono::milliseconds grace = std::chrono::seconds(1)) const;
  // Kills every child with SIGKILL and blocks until all are gone. Pending and
  // later calls fail with TerminatedError.
  void kill() const;

 protected:
  const std::shared_ptr<CallTarget>& target() const { return target_; }
  Subscription subscribe(EventListener&& listener, bool once) const;
  std::vector<std::shared_ptr<Connection>> connections() const;

 private:
  std::shared_ptr<PoolCore> core_;
  std::shared_ptr<CallTarget> target_;  // the same object as core_
};

PROCXY_EXPORT std::shared_ptr<PoolCore> pool(const PoolOptions& options, std::string_view class_name,
                                             std::uint64_t interface_hash, Construction construction);

}  // namespace detail

// A copyable handle on a pool of children, each with its own T (shared
// ownership; the children end with the last handle). Each call goes to the
// child with the fewest calls in flight, ties in turn; on()/once() hear the
// events of every child, replacements included. A child that dies is
// replaced under Options::restart_policy; a query it was running is retried
// on another child (up to Options::retries times), a mutation fails with
// ChildExitedError.
template <class T>
class Pool : public detail::Handle<T, detail::PoolBase> {
 public:
  explicit Pool(std::shared_ptr<detail::PoolCore> core) : detail::Handle<T, detail::PoolBase>(std::move(core)) {}

  // A proxy on each child taking calls now, for calls to one chosen child.
  // A child the pool retires or replaces later ends once its proxies are gone.
  std::vector<Proxy<T>> children() const {
    std::vector<Proxy<T>> proxies;
    for (auto& connection : this->connections()) proxies.emplace_back(std::move(connection));
    return proxies;
  }
};

// Starts PoolOptions::size children, constructs T(args...) in each and
// returns once every object exists. Throws SpawnError when a child cannot be
// started or a constructor throws.
template <class T, class... Args>
Pool<T> pool(const PoolOptions& options, [[maybe_unused]] Args&&... args) {
  if constexpr (detail::constructible<T, Args...>()) {
    using Traits = detail::ClassTraits<T>;
    return Pool<T>(
        detail::pool(options, Traits::kName, Traits::kInterfaceHash, Traits::construct(std::forward<Args>(args)...)));
  } else {
    std::terminate();  // never compiled into a program: a static_assert has failed
  }
}

}  // namespace procxy
