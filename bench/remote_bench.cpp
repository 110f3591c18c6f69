// remote_bench: calls through a launcher next to the same calls to a private
// child, in one run (docs/performance.md, "Through a launcher"):
//   1. a sync call of a method that does nothing;
//   2. 64 such calls in flight (async), until the last returns;
// each through a private child, through `env --` (the stdio channel with no
// network: what the launcher path itself costs) and through the launcher
// given on the command line (ssh to localhost), alternated, medians of the
// rounds.
// Usage: remote_bench ROUNDS LAUNCHER...   e.g. remote_bench 5 ssh -T -o BatchMode=yes localhost --

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <vector>

#include "pool_bench_service.procxy.h"

namespace {

using Clock = std::chrono::steady_clock;
using bench::Cruncher;

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double us_since(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

struct Path {
  std::string name;
  procxy::Proxy<Cruncher> proxy;
  std::vector<double> sync, batch;
};

procxy::Proxy<Cruncher> start(const std::vector<std::string>& launcher) {
  procxy::Options options;
  options.dedupe = false;
  options.coalesce = false;  // 64 identical queries in flight would share one request
  options.launcher = launcher;
  return procxy::spawn<Cruncher>(options);
}

}  // namespace

int main(int argc, char** argv) {
  procxy::serve_if_child(argc, argv);
  if (argc < 3) {
    std::fprintf(stderr, "usage: remote_bench ROUNDS LAUNCHER...  (e.g. 5 ssh -T -o BatchMode=yes localhost --)\n");
    return 2;
  }
  int rounds = std::max(1, std::atoi(argv[1]));
  std::vector<std::string> launcher(argv + 2, argv + argc);
  std::vector<Path> paths;
  paths.push_back({"private child", start({}), {}, {}});
  paths.push_back({"env --", start({"env", "--"}), {}, {}});
  paths.push_back({launcher.front(), start(launcher), {}, {}});
  for (Path& path : paths) {
    for (int i = 0; i < 500; ++i) path.proxy->nothing();  // warm
  }
  constexpr int kSync = 2000;
  constexpr int kInFlight = 64;
  constexpr int kBatches = 50;
  for (int r = 0; r < rounds; ++r) {
    for (Path& path : paths) {
      auto begin = Clock::now();
      for (int i = 0; i < kSync; ++i) path.proxy->nothing();
      path.sync.push_back(us_since(begin) / kSync);
      begin = Clock::now();
      for (int b = 0; b < kBatches; ++b) {
        std::vector<std::future<int>> calls;
        for (int i = 0; i < kInFlight; ++i) calls.push_back(path.proxy.async()->nothing());
        for (auto& call : calls) call.get();
      }
      path.batch.push_back(us_since(begin) / kBatches);
    }
  }
  double base_sync = median(paths[0].sync), base_batch = median(paths[0].batch);
  for (Path& path : paths) {
    double sync = median(path.sync), batch = median(path.batch);
    std::printf("%-14s sync call %8.1f us (%5.1fx)   64 in flight %9.1f us (%5.1fx), %6.2f us a call\n",
                path.name.c_str(), sync, sync / base_sync, batch, batch / base_batch, batch / kInFlight);
  }
  return 0;
}
