// The table of pending requests: ids, joins of coalesced queries, leaving
// (the last caller's leaving abandons the request), expiry of asynchronous
// requests and taking them all when the child dies. No process, no channel.

#include "parent/requests.h"

#include <catch2/catch.hpp>

#include "parent/reader.h"

using namespace procxy::detail;
using Clock = Requests::Clock;
using std::chrono::milliseconds;

namespace {

constexpr MethodInfo kQuery{1, "demo::C::query", true, 0};

Caller blocked(Waiter& waiter) {
  Caller caller;
  caller.waiter = &waiter;
  return caller;
}

Caller async(int& calls, std::uint64_t tag = 0) {
  Caller caller;
  caller.done = [&calls](Words*, std::exception_ptr) { ++calls; };
  caller.tag = tag;
  return caller;
}

Request request_of(Caller caller, std::string key = "", Clock::time_point deadline = Clock::time_point::max()) {
  Request request;
  request.first = std::move(caller);
  request.key = std::move(key);
  request.method = &kQuery;
  request.start = Clock::now();
  request.deadline = deadline;
  return request;
}

bool is(const Waiter& waiter, const Caller& caller) { return caller.waiter == &waiter; }

}  // namespace

TEST_CASE("requests get ids of their own, and are taken once", "[requests]") {
  Requests requests;
  Waiter a, b;
  std::uint64_t first = requests.add(request_of(blocked(a)), false);
  std::uint64_t second = requests.add(request_of(blocked(b)), false);
  CHECK(first != second);
  CHECK(requests.size() == 2);
  REQUIRE(requests.find(first) != nullptr);
  CHECK(requests.find(first)->first.waiter == &a);
  CHECK(requests.take(first).has_value());
  CHECK_FALSE(requests.take(first).has_value());  // a late reply finds nothing
  CHECK(requests.find(first) == nullptr);
  CHECK(requests.size() == 1);
}

TEST_CASE("a query joins the one in flight under the same key, until it settles", "[requests]") {
  Requests requests;
  Waiter a, b, c;
  std::uint64_t id = requests.add(request_of(blocked(a), "key"), true);
  Caller second = blocked(b);
  CHECK(requests.join("key", second) == id);
  CHECK(requests.find(id)->joined.size() == 1);
  Caller other = blocked(c);
  CHECK_FALSE(requests.join("another key", other).has_value());
  CHECK(other.waiter == &c);                          // untouched: it makes a request of its own
  CHECK_FALSE(requests.join("", other).has_value());  // no key: never coalesced
  Waiter d;
  std::uint64_t fresh = requests.add(request_of(blocked(d), "cached"), false);  // a key for the cache only
  CHECK_FALSE(requests.join("cached", other).has_value());
  requests.take(fresh);

  requests.take(id);
  CHECK_FALSE(requests.join("key", other).has_value());  // settled: the next one is a new request
}

TEST_CASE("leaving a shared request keeps it for the others; the last one abandons it", "[requests]") {
  Requests requests;
  Waiter a, b, c;
  std::uint64_t id = requests.add(request_of(blocked(a), "key"), true);
  Caller second = blocked(b), third = blocked(c);
  requests.join("key", second);
  requests.join("key", third);

  auto left = requests.leave(id, [&](const Caller& caller) { return is(a, caller); });
  REQUIRE(left);
  CHECK(left->caller.waiter == &a);
  CHECK_FALSE(left->abandoned);
  // The first caller's place is taken by a joined one.
  Request* request = requests.find(id);
  REQUIRE(request);
  CHECK((request->first.waiter == &b || request->first.waiter == &c));
  CHECK(request->joined.size() == 1);

  CHECK_FALSE(requests.leave(id, [&](const Caller& caller) { return is(a, caller); }));  // gone already

  CHECK_FALSE(requests.leave(id, [&](const Caller& caller) { return is(b, caller); })->abandoned);
  auto last = requests.leave(id, [&](const Caller& caller) { return is(c, caller); });
  REQUIRE(last);
  REQUIRE(last->abandoned);  // nobody waits: the child is to be told to stop it
  CHECK(last->abandoned->method == &kQuery);
  CHECK(requests.find(id) == nullptr);
  CHECK_FALSE(requests.join("key", third).has_value());
  CHECK_FALSE(requests.leave(id, [](const Caller&) { return true; }));
}

TEST_CASE("asynchronous callers are counted as they join and leave", "[requests]") {
  Requests requests;
  int calls = 0;
  Waiter a;
  std::uint64_t id = requests.add(request_of(blocked(a), "key"), true);
  CHECK(requests.async_callers() == 0);
  Caller one = async(calls, 1), two = async(calls, 2);
  requests.join("key", one);
  requests.join("key", two);
  CHECK(requests.async_callers() == 2);
  requests.leave(id, [](const Caller& caller) { return caller.tag == 1; });
  CHECK(requests.async_callers() == 1);
  requests.leave(id, [&](const Caller& caller) { return is(a, caller); });
  CHECK(requests.async_callers() == 1);
  requests.leave(id, [](const Caller& caller) { return caller.tag == 2; });  // the last: abandoned
  CHECK(requests.async_callers() == 0);
  CHECK(requests.size() == 0);

  std::uint64_t other = requests.add(request_of(async(calls)), false);
  CHECK(requests.async_callers() == 1);
  requests.take(other);
  CHECK(requests.async_callers() == 0);
  CHECK(calls == 0);  // the table never completes a caller
}

TEST_CASE("only asynchronous requests past their deadline expire", "[requests]") {
  Requests requests;
  int calls = 0;
  Waiter a;
  Clock::time_point now = Clock::now();
  std::uint64_t late = requests.add(request_of(async(calls), "", now - milliseconds(1)), false);
  std::uint64_t soon = requests.add(request_of(async(calls), "", now + milliseconds(50)), false);
  requests.add(request_of(blocked(a), "", now - milliseconds(1)), false);  // its caller expires it itself

  CHECK(requests.expired_async(now) == std::vector<std::uint64_t>{late});
  CHECK(requests.next_async_deadline() == now - milliseconds(1));
  requests.take(late);
  CHECK(requests.expired_async(now).empty());
  CHECK(requests.next_async_deadline() == now + milliseconds(50));
  requests.take(soon);
  CHECK(requests.next_async_deadline() == Clock::time_point::max());
}

TEST_CASE("take_all empties the table, joins and counts included", "[requests]") {
  Requests requests;
  int calls = 0;
  Waiter a, b;
  std::uint64_t id = requests.add(request_of(blocked(a), "key"), true);
  Caller joined = async(calls);
  requests.join("key", joined);
  requests.add(request_of(blocked(b)), false);

  std::vector<Request> all = requests.take_all();
  CHECK(all.size() == 2);
  std::size_t callers = 0;
  for (const Request& request : all) callers += 1 + request.joined.size();
  CHECK(callers == 3);
  CHECK(requests.size() == 0);
  CHECK(requests.async_callers() == 0);
  CHECK(requests.find(id) == nullptr);
  Caller late = blocked(a);
  CHECK_FALSE(requests.join("key", late).has_value());
  CHECK(requests.add(request_of(blocked(a)), false) != id);  // ids are never reused
}

TEST_CASE("the reader role goes to one at a time, and is handed on", "[reader]") {
  ReaderRole role;
  CHECK(role.hand_on(false) == ReaderRole::Next::kNobody);
  CHECK(role.hand_on(true) == ReaderRole::Next::kHelper);  // asynchronous calls need a reader

  REQUIRE(role.try_take());
  CHECK_FALSE(role.try_take());
  CHECK(role.hand_on(true) == ReaderRole::Next::kHeld);

  Waiter settled, waiting;
  settled.done = true;
  role.add_idle(settled);
  role.add_idle(waiting);
  role.release();
  // A blocked caller still waiting comes before the helper; one that was
  // settled would take the role nowhere.
  CHECK(role.hand_on(true) == ReaderRole::Next::kWaiter);
  waiting.cancelled = true;
  CHECK(role.hand_on(false) == ReaderRole::Next::kNobody);
  waiting.cancelled = false;
  waiting.deferred = true;  // its result is in, behind events
  CHECK(role.hand_on(true) == ReaderRole::Next::kHelper);
  role.remove_idle(settled);
  role.remove_idle(waiting);
  CHECK(role.try_take());
}
