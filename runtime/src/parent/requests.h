#pragma once

// The requests a connection has written to its child and not yet settled,
// and who waits for each: ids, the joins of coalesced queries, a caller
// leaving (the last one's leaving abandons the request), expiry and taking
// them all when the child dies. No threads and no I/O: the connection holds
// its mutex around every use, and does what the answers call for (tells the
// child to cancel, completes the callers).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "procxy/detail/generated_support.h"

namespace procxy::detail {

struct Waiter;  // parent/reader.h

// One caller waiting for a request: a coalesced query has several.
struct Caller {
  Waiter* waiter = nullptr;           // a blocked caller, or
  Completion done;                    // an asynchronous one
  bool from_delivery_thread = false;  // never held behind events: it would wait for itself
  std::uint64_t tag = 0;              // names an asynchronous caller to its stop callback
  std::shared_ptr<void> on_stop;      // that stop callback; dropped with the lock released

  bool async() const { return static_cast<bool>(done); }
};

// One request written to the child, and who waits for it.
struct Request {
  using Clock = std::chrono::steady_clock;

  Caller first;
  std::vector<Caller> joined;  // later callers of the same query
  Clock::time_point start;
  Clock::time_point deadline;  // the first caller's
  const MethodInfo* method = nullptr;
  int attempt = 1;
  int attempts = 1;
  std::chrono::milliseconds timeout{0};  // the limit of each attempt, and which option set it
  const char* timeout_from = "";
  std::string key;                // query_key(): the cache's, and the coalescing one; empty: none
  std::size_t async_callers = 0;  // of first and joined; Requests keeps the count
};

class Requests {
 public:
  using Clock = Request::Clock;

  // Registers `request` under a new id; while it is pending, join() with
  // its key finds it if `coalesce`.
  std::uint64_t add(Request request, bool coalesce);
  // Adds `caller` to the pending request that coalesces under `key`: that
  // request's id, or nothing (and `caller` untouched) when none does.
  std::optional<std::uint64_t> join(const std::string& key, Caller& caller);

  Request* find(std::uint64_t id);
  // Removes request `id`; nothing if it is not pending.
  std::optional<Request> take(std::uint64_t id);
  // Every pending request, removed.
  std::vector<Request> take_all();

  struct Left {
    Caller caller;
    std::optional<Request> abandoned;  // the request, removed: `caller` was its last
  };
  // Removes the caller `matches` picks from request `id`. Nothing when the
  // request is not pending or has no such caller.
  std::optional<Left> leave(std::uint64_t id, const std::function<bool(const Caller&)>& matches);
  Caller* find_caller(std::uint64_t id, const std::function<bool(const Caller&)>& matches);

  // Requests an asynchronous caller waits for, past their deadline at `now`.
  std::vector<std::uint64_t> expired_async(Clock::time_point now) const;
  // The earliest deadline of a request an asynchronous caller waits for.
  Clock::time_point next_async_deadline() const;
  // Asynchronous callers, over all requests: someone must read for them.
  std::size_t async_callers() const { return async_callers_; }
  std::size_t size() const { return pending_.size(); }

 private:
  struct Entry {
    Request request;
    bool coalesced = false;  // in in_flight_ under request.key
  };
  Request take(std::unordered_map<std::uint64_t, Entry>::iterator it);

  std::uint64_t next_id_ = 0;
  std::unordered_map<std::uint64_t, Entry> pending_;
  std::unordered_map<std::string, std::uint64_t> in_flight_;  // coalescable queries: key -> request id
  std::size_t async_callers_ = 0;
};

}  // namespace procxy::detail
