#pragma once

// What generated proxies call and what a Subscription removes itself from,
// as interfaces: a Proxy<T>'s calls go to its Connection, a Pool<T>'s to the
// pool, which hands each to the connection of one child.

#include <capnp/message.h>

#include <cstdint>
#include <exception>

#include "parent/owner.h"
#include "procxy/detail/generated_support.h"

namespace procxy::detail {

class CallTarget {
 public:
  // The process the target belongs to (parent/owner.h).
  virtual const ProcessOwner& owner() const = 0;
  virtual Words call(const MethodInfo& method, capnp::MessageBuilder& params, const CallOptions& options) = 0;
  // A `done` that throws ProtocolError (it found the result malformed)
  // rejects the child that sent it.
  virtual void call_async(const MethodInfo& method, capnp::MessageBuilder& params, const CallOptions& options,
                          Completion done) = 0;
  // The result of the last call() this thread made proved malformed.
  virtual void reject(const std::exception_ptr& error) = 0;

 protected:
  ~CallTarget() = default;
};

class Listeners {
 public:
  virtual const ProcessOwner& owner() const = 0;
  // After remove() returns, the listener is not running on another thread and
  // never runs again.
  virtual void remove(std::uint64_t id) = 0;
  virtual bool active(std::uint64_t id) const = 0;

 protected:
  ~Listeners() = default;
};

}  // namespace procxy::detail
