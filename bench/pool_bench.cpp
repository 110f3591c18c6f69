// pool_bench: what a pool costs and gives, next to a single child, in one run
// (docs/performance.md, "Pools"):
//   1. throughput: 2,000 calls of 2 ms of CPU work from 8 threads, through one
//      child and through a pool of 2;
//   2. dispatch: a sync call of a method that does nothing, through a proxy
//      and through a pool of 1, alternated, medians of the rounds;
//   3. a child SIGKILLed under load: how long until its replacement serves,
//      and how many of the 64 queries and 2 mutations in flight were lost;
//      with the default restart_policy.backoff (100 ms, which the
//      replacement waits first) and with none.
// Usage: pool_bench [ROUNDS]

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <thread>
#include <vector>

#include "pool_bench_service.procxy.h"

namespace {

using Clock = std::chrono::steady_clock;
using bench::Cruncher;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Calls per second of `call` made `calls` times over `threads` threads.
template <class Call>
double rate(int threads, int calls, Call call) {
  std::atomic<int> next{0};
  auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      while (next.fetch_add(1) < calls) call();
    });
  }
  for (auto& worker : workers) worker.join();
  return calls / seconds_since(start);
}

// Microseconds per sync call of `call`.
template <class Call>
double per_call_us(int calls, Call call) {
  auto start = Clock::now();
  for (int i = 0; i < calls; ++i) call();
  return seconds_since(start) * 1e6 / calls;
}

void throughput(int rounds) {
  procxy::Options options;
  options.dedupe = false;
  options.coalesce = false;  // identical queries in flight would share one run
  auto one = procxy::spawn<Cruncher>(options);
  procxy::PoolOptions two;
  two.size = 2;
  two.child = options;
  auto pool = procxy::pool<Cruncher>(two);
  std::vector<double> single, pooled;
  for (int r = 0; r < rounds; ++r) {
    single.push_back(rate(8, 2000, [&] { one->crunch(2000); }));
    pooled.push_back(rate(8, 2000, [&] { pool->crunch(2000); }));
  }
  double s = median(single), p = median(pooled);
  std::printf(
      "throughput, 2000 calls of 2 ms CPU from 8 threads: one child %.0f calls/s, pool of 2 %.0f calls/s: "
      "%.2fx\n",
      s, p, p / s);
}

void dispatch(int rounds) {
  procxy::Options options;
  options.dedupe = false;
  auto proxy = procxy::spawn<Cruncher>(options);
  procxy::PoolOptions one;
  one.size = 1;
  auto pool = procxy::pool<Cruncher>(one);
  std::vector<double> direct, pooled;
  for (int i = 0; i < 2000; ++i) proxy->nothing(), pool->nothing();  // warm
  for (int r = 0; r < rounds * 4; ++r) {
    direct.push_back(per_call_us(5000, [&] { proxy->nothing(); }));
    pooled.push_back(per_call_us(5000, [&] { pool->nothing(); }));
  }
  double d = median(direct), p = median(pooled);
  std::printf(
      "dispatch, sync call of a method doing nothing: proxy %.2f us, pool of 1 %.2f us: the pool adds %.2f us\n", d, p,
      p - d);
}

void replacement(int rounds, std::chrono::milliseconds backoff) {
  std::vector<double> to_serve;
  int lost_queries = 0, failed_mutations = 0, mutations = 0;
  for (int r = 0; r < rounds; ++r) {
    procxy::PoolOptions two;
    two.size = 2;
    two.child.restart_policy.backoff = backoff;
    auto pool = procxy::pool<Cruncher>(two);
    std::vector<pid_t> before = pool.pids();
    std::vector<std::future<std::int32_t>> mutations_in_flight;
    for (int i = 0; i < 2; ++i) mutations_in_flight.push_back(pool.async()->wait_mutation(50));
    std::vector<std::future<std::int32_t>> queries;
    for (int i = 0; i < 64; ++i) queries.push_back(pool.async()->wait(2));
    auto killed = Clock::now();
    ::kill(before[0], SIGKILL);
    // The replacement is among pids() once it can take calls.
    pid_t fresh = 0;
    while (fresh == 0) {
      for (pid_t pid : pool.pids()) {
        if (pid != before[0] && pid != before[1]) fresh = pid;
      }
    }
    for (auto& child : pool.children()) {
      if (child.pid() == fresh) child->nothing();
    }
    to_serve.push_back(seconds_since(killed) * 1e3);
    for (auto& query : queries) {
      try {
        query.get();
      } catch (const procxy::Error&) {
        ++lost_queries;
      }
    }
    for (auto& mutation : mutations_in_flight) {
      ++mutations;
      try {
        mutation.get();
      } catch (const procxy::ChildExitedError&) {
        ++failed_mutations;
      }
    }
  }
  std::printf(
      "a child SIGKILLed with 64 queries in flight, restart_policy.backoff %lld ms: its replacement serves "
      "%.1f ms later (median of %d); queries lost: %d; mutations failed with ChildExitedError: %d of %d "
      "(those on the killed child)\n",
      static_cast<long long>(backoff.count()), median(to_serve), rounds, lost_queries, failed_mutations, mutations);
}

}  // namespace

int main(int argc, char** argv) {
  procxy::serve_if_child(argc, argv);
  int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  throughput(rounds);
  dispatch(rounds);
  replacement(rounds, procxy::RestartPolicy{}.backoff);
  replacement(rounds, std::chrono::milliseconds(0));
}
