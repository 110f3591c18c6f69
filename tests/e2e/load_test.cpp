// Load: many threads on one proxy, many proxies at once, and memory that
// stays flat over a million calls. Every result is checked against its caller.

#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <mutex>
#include <thread>

#include "service.procxy.h"
#include "test_support.h"

using e2e::Service;

namespace {

// Runs body(t) on `threads` threads; returns what they threw.
template <class Body>
std::vector<std::string> on_threads(int threads, Body body) {
  std::mutex mutex;
  std::vector<std::string> errors;
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&, t] {
      try {
        body(t);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mutex);
        errors.push_back(e.what());
      }
    });
  }
  for (auto& thread : running) thread.join();
  return errors;
}

// Resident memory of a process, in KiB.
long rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (status >> key) {
    long value;
    if (key == "VmRSS:" && status >> value) return value;
    status.ignore(256, '\n');
  }
  return -1;
}

}  // namespace

TEST_CASE("8 threads x 100,000 calls on one proxy: every result reaches its caller", "[load]") {
  const int per_thread = static_cast<int>(e2e::scaled(100'000));
  auto service = procxy::spawn<Service>(0);
  std::atomic<int> mismatches{0};
  std::atomic<int> calls{0};
  auto errors = on_threads(8, [&](int t) {
    for (int i = 0; i < per_thread; ++i) {
      if (service->add(t * 1'000'000, i) != t * 1'000'000 + i) ++mismatches;
      ++calls;
    }
  });
  CHECK(errors == std::vector<std::string>{});
  CHECK(calls == 8 * per_thread);
  CHECK(mismatches == 0);
}

TEST_CASE("64 proxies at once, each called from its own thread", "[load]") {
  constexpr int kProxies = 64;
  const int per_proxy = static_cast<int>(e2e::scaled(2'000));
  std::vector<procxy::Proxy<Service>> proxies;
  for (int p = 0; p < kProxies; ++p) proxies.push_back(procxy::spawn<Service>(p));
  std::atomic<int> mismatches{0};
  auto errors = on_threads(kProxies, [&](int p) {
    for (int i = 0; i < per_proxy; ++i) {
      if (proxies[p]->add(i, 1) != p + i + 1) ++mismatches;  // each child adds its own base
    }
    if (proxies[p]->increment() != 1) ++mismatches;
  });
  CHECK(errors == std::vector<std::string>{});
  CHECK(mismatches == 0);
  CHECK(procxy::children().size() >= kProxies);
}

TEST_CASE("memory stays flat over 1,000,000 calls, in the parent and in the child", "[load]") {
  if (e2e::kSanitized) {
    // Sanitizer allocators keep freed memory in quarantine by design; their
    // leak checker covers this build instead.
    WARN("skipped under a sanitizer");
    return;
  }
  auto service = procxy::spawn<Service>(0);
  auto run = [&](int calls) {
    constexpr int kInFlight = 64;
    std::vector<std::future<int>> batch;
    for (int done = 0; done < calls; done += kInFlight) {
      batch.clear();
      for (int i = 0; i < kInFlight; ++i) batch.push_back(service.async()->add(done, i));
      for (int i = 0; i < kInFlight; ++i) REQUIRE(batch[i].get() == done + i);
      if (done % 4096 == 0) REQUIRE(service->echo(std::string(1000, 'x')).size() == 1000);  // a sync caller too
    }
  };
  run(100'000);  // warm up: buffers, thread stacks, allocator arenas
  long parent_before = rss_kib(::getpid());
  long child_before = rss_kib(service.pid());
  run(900'000);
  long parent_growth = rss_kib(::getpid()) - parent_before;
  long child_growth = rss_kib(service.pid()) - child_before;
  INFO("parent grew " << parent_growth << " KiB, child " << child_growth << " KiB");
  // A leak of even 16 bytes per call would add 14 MiB.
  CHECK(parent_growth < 8 * 1024);
  CHECK(child_growth < 8 * 1024);
}
