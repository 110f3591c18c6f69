// The ".procxy" cases: the same calls through procxy (bench_service.h), plus
// the coalescing benchmark of docs/dedup.md.

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "bench_cases.h"
#include "bench_service.procxy.h"

namespace bench {
namespace {

procxy::Proxy<Service> start(bool sandboxed = false) {
  procxy::Options options;
  options.dedupe = false;  // a child of its own for every benchmark
  options.sandbox.enabled = sandboxed;
  return procxy::spawn<Service>(options);
}

void sync_add(benchmark::State& state, bool sandboxed) {
  auto service = start(sandboxed);
  int x = 0;
  for (auto _ : state) benchmark::DoNotOptimize(x = service->add(x, 1));
}
BENCHMARK_CAPTURE(sync_add, plain, false)->Name("sync_add.procxy")->UseRealTime();
// The cost of Options::sandbox (docs/sandbox.md): the filter runs on every syscall.
BENCHMARK_CAPTURE(sync_add, sandboxed, true)->Name("sync_add.sandboxed")->UseRealTime();

void in_flight(benchmark::State& state) {
  auto service = start();
  std::vector<std::future<int>> calls;
  calls.reserve(kInFlight);
  for (auto _ : state) {
    for (int i = 0; i < kInFlight; ++i) calls.push_back(service.async()->add(i, 1));
    for (auto& call : calls) benchmark::DoNotOptimize(call.get());
    calls.clear();
  }
  state.SetItemsProcessed(state.iterations() * kInFlight);
}
BENCHMARK(in_flight)->Name("in_flight_64.procxy")->UseRealTime();

void string_1k(benchmark::State& state) {
  auto service = start();
  std::string text(kStringBytes, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(text = service->echo(text));
}
BENCHMARK(string_1k)->Name("string_1k.procxy")->UseRealTime();

void blob_1m(benchmark::State& state) {
  auto service = start();
  std::vector<std::byte> data(kBlobBytes, std::byte{7});
  for (auto _ : state) benchmark::DoNotOptimize(data = service->mirror(data));
}
BENCHMARK(blob_1m)->Name("blob_1m.procxy")->UseRealTime();

void events(benchmark::State& state) {
  auto service = start();
  std::atomic<int> ticks = 0;
  auto subscription = service.on(&Service::tick, [&ticks](int) { ticks.fetch_add(1, std::memory_order_relaxed); });
  // Every event emitted before ticks() returned has reached the handler when it returns.
  for (auto _ : state) service->ticks(kTicks);
  if (ticks != state.iterations() * kTicks) state.SkipWithError("events were lost");
  state.SetItemsProcessed(state.iterations() * kTicks);
}
BENCHMARK(events)->Name("events.procxy")->UseRealTime();

void spawn(benchmark::State& state, bool sandboxed) {
  for (auto _ : state) {
    auto service = start(sandboxed);
    benchmark::DoNotOptimize(service->add(1, 2));
    state.PauseTiming();
    service.terminate();
    state.ResumeTiming();
  }
}
BENCHMARK_CAPTURE(spawn, plain, false)->Name("spawn.procxy")->UseRealTime()->Unit(benchmark::kMicrosecond);
// Engaging the sandbox: Landlock rules for every mapped file, the filter.
BENCHMARK_CAPTURE(spawn, sandboxed, true)->Name("spawn.sandboxed")->UseRealTime()->Unit(benchmark::kMicrosecond);

// 64 threads calling the same query, with and without coalescing: the time
// per call, and how many requests the child ran per call.
void same_query(benchmark::State& state) {
  static std::optional<procxy::Proxy<Directory>> directory;
  static std::int64_t before = 0;
  if (state.thread_index() == 0) {  // the others wait for it at the start of the loop
    procxy::Options options;
    options.coalesce = state.range(0) != 0;
    options.dedupe = false;
    directory.emplace(procxy::spawn<Directory>(options));
    before = (*directory)->lookups();
  }
  for (auto _ : state) benchmark::DoNotOptimize((*directory)->lookup(7));
  state.SetItemsProcessed(state.iterations());  // summed over the threads: calls per second
  if (state.thread_index() == 0) {              // every thread has finished its loop
    double calls = static_cast<double>(state.iterations()) * state.threads();
    state.counters["requests_per_call"] = static_cast<double>((*directory)->lookups() - before) / calls;
    directory.reset();
  }
}
BENCHMARK(same_query)
    ->Name("same_query_64_threads.procxy")
    ->ArgName("coalesce")
    ->Arg(0)
    ->Arg(1)
    ->Threads(64)
    ->UseRealTime();

}  // namespace
}  // namespace bench
