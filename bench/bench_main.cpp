// calls_bench: every case of bench_cases.h, raw, Cap'n Proto RPC and procxy,
// in one run. bench/compare.py turns its output into docs/performance.md's table.

#include <benchmark/benchmark.h>
#include <procxy/procxy.h>

#include <cstdlib>
#include <string_view>

#include "bench_cases.h"

int main(int argc, char** argv) {
  procxy::serve_if_child(argc, argv);  // a procxy child serves here and exits
  if (argc == 2 && std::string_view(argv[1]) == bench::kExitAtOnceFlag) return 0;
  if (argc == 3 && std::string_view(argv[1]) == bench::kCapnpServerFlag) return bench::serve_capnp(std::atoi(argv[2]));
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
