// procxy's call path next to the raw IPC floor, measured in the same run.
// See docs/performance.md for the figures and bench/compare.py for the table.

#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <vector>

#include "bench_service.procxy.h"

namespace {

// The bytes one add(int, int) call puts on the wire each way: the 16-byte
// frame header, the 8-byte segment table and a 16-byte message (root pointer
// and one data word). Both directions have the same size.
constexpr size_t kAddFrameBytes = 40;

void full_write(int fd, const char* p, size_t n) {
  while (n) {
    ssize_t k = ::write(fd, p, n);
    if (k <= 0) _exit(1);
    p += k;
    n -= static_cast<size_t>(k);
  }
}

void full_read(int fd, char* p, size_t n) {
  while (n) {
    ssize_t k = ::read(fd, p, n);
    if (k <= 0) _exit(1);
    p += k;
    n -= static_cast<size_t>(k);
  }
}

// The floor: ../shared/bench/pingpong.cpp's blocking echo over a socketpair.
void BM_RawSocketpairRoundTrip(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  int sv[2];
  ::socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  std::vector<char> buffer(size, 'x');
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(sv[0]);
    for (;;) {
      full_read(sv[1], buffer.data(), size);
      full_write(sv[1], buffer.data(), size);
    }
  }
  ::close(sv[1]);
  for (auto _ : state) {
    full_write(sv[0], buffer.data(), size);
    full_read(sv[0], buffer.data(), size);
  }
  ::close(sv[0]);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}
BENCHMARK(BM_RawSocketpairRoundTrip)->Arg(kAddFrameBytes)->UseRealTime();

void BM_ProxyAddRoundTrip(benchmark::State& state) {
  auto adder = procxy::spawn<bench::Adder>();
  int x = 0;
  for (auto _ : state) benchmark::DoNotOptimize(x = adder->add(x, 1));
}
BENCHMARK(BM_ProxyAddRoundTrip)->UseRealTime();

void BM_ProxyPipelined64(benchmark::State& state) {
  auto adder = procxy::spawn<bench::Adder>();
  std::vector<std::future<int>> calls;
  calls.reserve(64);
  for (auto _ : state) {
    for (int i = 0; i < 64; ++i) calls.push_back(adder.async()->add(i, 1));
    for (auto& call : calls) benchmark::DoNotOptimize(call.get());
    calls.clear();
  }
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_ProxyPipelined64)->UseRealTime();

// 64 threads calling the same query, with and without coalescing: the time
// per call, and how many requests the child ran per call.
void BM_SameQuery64Threads(benchmark::State& state) {
  static std::optional<procxy::Proxy<bench::Directory>> directory;
  static std::int64_t before = 0;
  if (state.thread_index() == 0) {  // the others wait for it at the start of the loop
    procxy::Options options;
    options.coalesce = state.range(0) != 0;
    options.dedupe = false;
    directory.emplace(procxy::spawn<bench::Directory>(options));
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
BENCHMARK(BM_SameQuery64Threads)->ArgName("coalesce")->Arg(0)->Arg(1)->Threads(64)->UseRealTime();

// Spawn-to-first-result, next to a bare fork+exec of the same binary that
// exits at once (what any re-exec design pays).
void BM_SpawnToFirstCall(benchmark::State& state) {
  for (auto _ : state) {
    auto adder = procxy::spawn<bench::Adder>();
    benchmark::DoNotOptimize(adder->add(1, 2));
    state.PauseTiming();
    adder.terminate();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_SpawnToFirstCall)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_ForkExecSameBinary(benchmark::State& state) {
  for (auto _ : state) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::execl("/proc/self/exe", "calls_bench", "--exit-at-once", static_cast<char*>(nullptr));
      _exit(127);
    }
    ::waitpid(pid, nullptr, 0);
  }
}
BENCHMARK(BM_ForkExecSameBinary)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  procxy::serve_if_child(argc, argv);
  if (argc == 2 && std::string(argv[1]) == "--exit-at-once") return 0;
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
