// Events from child to parent: delivery, order relative to results,
// subscriptions, once, listeners that throw or change the listener set.

#include "parent/events.h"

#include <signal.h>

#include <catch2/catch.hpp>
#include <cstddef>
#include <future>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "service.procxy.h"
#include "test_support.h"

using e2e::Service;

namespace {

// What a listener saw, shared with the test thread.
struct Seen {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<int> values;

  void add(int value) {
    std::lock_guard<std::mutex> lock(mutex);
    values.push_back(value);
    changed.notify_all();
  }
  std::vector<int> snapshot() {
    std::lock_guard<std::mutex> lock(mutex);
    return values;
  }
  // Waits (generously) until `count` values arrived.
  bool wait_for(std::size_t count) {
    std::unique_lock<std::mutex> lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(10), [&] { return values.size() >= count; });
  }
};

std::vector<int> iota(int count) {
  std::vector<int> values(count);
  for (int i = 0; i < count; ++i) values[i] = i;
  return values;
}

}  // namespace

TEST_CASE("10,000 events reach the listener, in order, before the method's result", "[events]") {
  auto service = procxy::spawn<Service>();
  Seen seen;
  auto subscription = service.on(&Service::progress, [&](int percent) { seen.add(percent); });
  service->emit_progress(10'000);
  CHECK(seen.snapshot() == iota(10'000));  // all delivered before emit_progress returned here

  // The same holds for asynchronous callers.
  Seen more;
  auto second = service.on(&Service::progress, [&](int percent) { more.add(percent); });
  service.async()->emit_progress(500).get();
  CHECK(more.snapshot() == iota(500));
  CHECK(seen.snapshot().size() == 10'500);  // both listeners got every event
}

// Waits (generously: hangs only) until a full event queue has stopped the
// reading `after` times.
bool paused_after(std::size_t after) {
  auto give_up = std::chrono::steady_clock::now() + e2e::bound(std::chrono::seconds(10));
  while (procxy::detail::event_queue_stats().pauses.load() <= after) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

TEST_CASE("a child flooding a held-up listener is held back: the parent queues a bounded number, loses none",
          "[events]") {
  auto service = procxy::spawn<Service>();
  auto& stats = procxy::detail::event_queue_stats();
  std::size_t pauses = stats.pauses.load();
  stats.peak_queued.store(0);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Seen seen;
  auto subscription = service.on(&Service::progress, [&](int percent) {
    if (percent == 0) released.wait();  // the first event holds the listener up
    seen.add(percent);
  });
  const int count = 50'000;  // 50 times the bound
  auto emitting = service.async()->emit_progress(count);
  CHECK(paused_after(pauses));  // the queue reached its bound
  // Held a while longer: without back-pressure, the rest of the child's
  // events would pile up in the parent meanwhile. (A correct bound holds
  // however long this is: it only gives a missing one time to show.)
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  release.set_value();
  emitting.get();
  CHECK(seen.snapshot() == iota(count));  // all of them, in order
  CHECK(stats.peak_queued.load() <= procxy::detail::kMaxQueuedEvents);
}

TEST_CASE("a listener that calls the proxy while the event queue is full gets its answer", "[events]") {
  auto service = procxy::spawn<Service>();
  std::size_t pauses = procxy::detail::event_queue_stats().pauses.load();
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Seen seen;
  int sum = 0;
  procxy::CallOptions hang_catcher{.timeout = e2e::bound(std::chrono::seconds(20))};
  auto subscription = service.on(&Service::progress, [&](int percent) {
    if (percent == 0) {
      released.wait();
      // Queued in the child behind emit_progress, so its reply comes after
      // every event: the parent must read them all, past the bound.
      sum = service.with(hang_catcher)->add(2, 3);
    }
    seen.add(percent);
  });
  const int count = 20'000;
  auto emitting = service.async()->emit_progress(count);
  CHECK(paused_after(pauses));
  release.set_value();
  emitting.get();
  CHECK(sum == 5);
  CHECK(seen.snapshot() == iota(count));
}

// Large events and by-value byte vectors: each event and the result carry
// their own content, in shared memory or through the socket.
TEST_CASE("events carrying byte vectors of every size keep their content", "[events]") {
  auto service = procxy::spawn<Service>();
  std::mutex mutex;
  std::vector<std::vector<std::byte>> chunks;
  auto subscription = service.on(&Service::chunk, [&](const std::vector<std::byte>& data) {
    std::lock_guard<std::mutex> lock(mutex);
    chunks.push_back(data);
  });
  std::mt19937 rng(Catch::rngSeed());
  for (std::size_t size :
       {std::size_t{1}, std::size_t{4096}, std::size_t{100'000}, std::size_t{1} << 20, (std::size_t{3} << 20) + 5}) {
    INFO("size " << size);
    std::vector<std::byte> data(size);
    for (std::byte& b : data) b = static_cast<std::byte>(rng());
    constexpr int kCount = 12;  // more than a connection's shared buffers
    std::vector<std::byte> result = service->emit_chunks(data, kCount);
    std::lock_guard<std::mutex> lock(mutex);
    REQUIRE(chunks.size() == kCount);
    for (int i = 0; i < kCount; ++i) {
      data[0] = static_cast<std::byte>(i);
      CHECK(chunks[i] == data);
    }
    data[0] = static_cast<std::byte>(kCount);
    CHECK(result == data);
    chunks.clear();
  }
}

TEST_CASE("an event goes out at once, while the method that emitted it still runs", "[events]") {
  auto service = procxy::spawn<Service>();
  Seen seen;
  service.on(&Service::progress, [&](int percent) { seen.add(percent); });
  auto running = service.async()->emit_then_sleep(42, 3'000);
  REQUIRE(seen.wait_for(1));
  CHECK(seen.snapshot() == std::vector<int>{42});
  CHECK(running.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);  // still running
  running.get();
}

TEST_CASE("events with several parameters, emitted by a thread of the object", "[events]") {
  auto service = procxy::spawn<Service>();
  std::mutex mutex;
  std::vector<std::string> texts;
  std::vector<e2e::Item> items;
  std::condition_variable done;
  service.on(&Service::note, [&](const std::string& text, const e2e::Item& item) {
    std::lock_guard<std::mutex> lock(mutex);
    texts.push_back(text);
    items.push_back(item);
    done.notify_all();
  });
  service->emit_from_thread(100);
  std::unique_lock<std::mutex> lock(mutex);
  REQUIRE(done.wait_for(lock, std::chrono::seconds(10), [&] { return texts.size() == 100; }));
  for (int i = 0; i < 100; ++i) {
    CHECK(texts[i] == "note " + std::to_string(i));
    CHECK(items[i].count == i);
    CHECK(items[i].weights == std::vector<double>{0.5 * i});
  }
}

TEST_CASE("events nobody subscribed to are not sent, so they never block the child", "[events]") {
  auto service = procxy::spawn<Service>();
  // 50,000 notes would fill the socket many times over if they were sent while
  // the parent reads nothing (no call in flight, no listener); unsent, the
  // thread finishes at once.
  service->emit_from_thread(50'000);
  std::this_thread::sleep_for(e2e::kSanitized ? std::chrono::seconds(10) : std::chrono::seconds(2));
  CHECK(service->notes_emitted() == 50'000);
}

TEST_CASE("off() stops a listener; once() runs once; other listeners are unaffected", "[events]") {
  auto service = procxy::spawn<Service>();
  Seen always, first, removed;
  auto keep = service.on(&Service::progress, [&](int p) { always.add(p); });
  auto single = service.once(&Service::progress, [&](int p) { first.add(p); });
  auto gone = service.on(&Service::progress, [&](int p) { removed.add(p); });
  CHECK(gone.active());
  gone.off();
  gone.off();  // idempotent
  CHECK_FALSE(gone.active());
  service->emit_progress(5);
  CHECK(always.snapshot() == iota(5));
  CHECK(first.snapshot() == std::vector<int>{0});
  CHECK_FALSE(single.active());
  CHECK(removed.snapshot().empty());
  CHECK(keep.active());
}

TEST_CASE("listeners add and remove listeners, and call the proxy, from inside a listener", "[events]") {
  auto service = procxy::spawn<Service>();
  Seen added, outer;
  procxy::Subscription inner;
  procxy::Subscription self;
  self = service.on(&Service::progress, [&](int p) {
    outer.add(p);
    if (p == 1) inner = service.on(&Service::progress, [&](int q) { added.add(q); });
    if (p == 3) self.off();                      // removes itself mid-delivery
    if (p == 2) CHECK(service->add(p, p) == 4);  // a call from a listener does not deadlock
  });
  service->emit_progress(6);
  CHECK(outer.snapshot() == std::vector<int>{0, 1, 2, 3});
  CHECK(added.snapshot() == std::vector<int>{2, 3, 4, 5});  // added during event 1: sees the next ones
  inner.off();
}

TEST_CASE("a listener that throws does not break the proxy; the next events arrive", "[events]") {
  auto service = procxy::spawn<Service>();
  Seen seen;
  service.on(&Service::progress, [&](int p) {
    seen.add(p);
    if (p % 2 == 0) throw std::runtime_error("listener trouble at " + std::to_string(p));
  });
  service->emit_progress(10);
  CHECK(seen.snapshot() == iota(10));
  CHECK(service->add(1, 2) == 3);
}

TEST_CASE("a listener's failure is always reported, with the event's name", "[events][log]") {
  std::string command = std::string("env -u PROCXY_DEBUG '") + E2E_SELF + "' --throwing-listener 2>&1";
  int status = 0;
  std::string text = e2e::output_of(command, status);
  CHECK(status == 0);
  CHECK_THAT(text, Catch::Contains("a listener of e2e::Service::progress threw") &&
                       Catch::Contains("listener trouble") && Catch::Contains("delivering the next events"));
  CHECK_THAT(text, Catch::Contains("events seen: 3"));
}

TEST_CASE("on_exit runs once the child is gone, after its events", "[events][supervision]") {
  auto service = procxy::spawn<Service>();
  std::mutex mutex;
  std::condition_variable exited;
  std::vector<std::string> order;
  service.on(&Service::progress, [&](int p) {
    std::lock_guard<std::mutex> lock(mutex);
    order.push_back("event " + std::to_string(p));
  });
  service.on_exit([&](const procxy::ExitStatus& status) {
    std::lock_guard<std::mutex> lock(mutex);
    order.push_back("exit " + status.to_string());
    exited.notify_all();
  });
  service.async()->emit_progress(3);
  service.async()->crash("exit3");
  {
    std::unique_lock<std::mutex> lock(mutex);
    REQUIRE(exited.wait_for(lock, std::chrono::seconds(10), [&] { return order.size() == 4; }));
    CHECK(order == std::vector<std::string>{"event 0", "event 1", "event 2", "exit exited with code 3"});
  }
  // Added after the exit: runs at once.
  std::promise<int> late;
  service.on_exit([&](const procxy::ExitStatus& status) { late.set_value(status.exit_code.value_or(-1)); });
  auto code = late.get_future();
  REQUIRE(code.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(code.get() == 3);
}

TEST_CASE("a listener holding the last handle lets the child go when it drops it", "[events]") {
  std::promise<void> released, dropped;
  pid_t pid;
  {
    auto service = procxy::spawn<Service>();
    pid = service.pid();
    auto holder = std::make_shared<std::optional<procxy::Proxy<Service>>>(service);
    service.once(&Service::progress, [holder, &released, &dropped](int) {
      released.get_future().wait();  // until the test's own handle is gone
      holder->reset();               // the last handle, released on the delivery thread
      dropped.set_value();
    });
    service.async()->emit_then_sleep(1, 0);
  }
  released.set_value();
  REQUIRE(dropped.get_future().wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  e2e::eventually([&] { return !e2e::process_exists(pid); }, std::chrono::seconds(5));
  CHECK_FALSE(e2e::process_exists(pid));  // gone, and reaped
}
