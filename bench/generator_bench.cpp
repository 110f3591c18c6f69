// The "generator" case: procxy-gen on std_headers.h, next to the parse alone
// (clang++ -fsyntax-only on the same header, the floor of any libclang tool)
// and to Cap'n Proto's compiler generating C++ for capnp_bench.capnp.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "bench_cases.h"

namespace bench {
namespace {

// A directory for outputs, removed at the end of the benchmark.
struct OutputDir {
  std::filesystem::path path;
  OutputDir() {
    std::string name = (std::filesystem::temp_directory_path() / "procxy-bench-XXXXXX").string();
    path = ::mkdtemp(name.data()) ? name : "";
  }
  ~OutputDir() { std::filesystem::remove_all(path); }
};

void measure(benchmark::State& state, const std::vector<std::string>& argv) {
  for (auto _ : state) {
    if (!run_program(argv)) {
      state.SkipWithError(("failed: " + argv[0]).c_str());
      break;
    }
  }
}

void procxy_gen(benchmark::State& state) {
  OutputDir out;
  measure(state, {PROCXY_GEN, "-o", out.path, BENCH_STD_HEADER, "--", "-std=c++20", "-I" PROCXY_INCLUDE_DIR});
}
BENCHMARK(procxy_gen)->Name("generator.procxy")->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(3);

void clang_parse(benchmark::State& state) {
  if (std::string(CLANGXX).empty()) return state.SkipWithError("clang++-14 not found");
  measure(state, {CLANGXX, "-fsyntax-only", "-std=c++20", "-I" PROCXY_INCLUDE_DIR, BENCH_STD_HEADER});
}
BENCHMARK(clang_parse)->Name("generator.raw")->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(3);

void capnp_compile(benchmark::State& state) {
  OutputDir out;
  measure(state, {CAPNP, "compile", std::string("-o") + CAPNPC_CXX + ":" + out.path.string(),
                  "--src-prefix=" BENCH_SOURCE_DIR, BENCH_CAPNP_SCHEMA});
}
BENCHMARK(capnp_compile)->Name("generator.capnp")->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace bench
