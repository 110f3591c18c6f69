#!/usr/bin/env python3
"""Runs calls_bench with repetitions and prints the comparison table of
docs/performance.md (medians of the repetitions, ratios within the same run).

Usage: bench/compare.py BUILD_DIR [REPETITIONS]
"""
import json
import subprocess
import sys

build = sys.argv[1] if len(sys.argv) > 1 else "build"
repetitions = sys.argv[2] if len(sys.argv) > 2 else "10"
out = subprocess.run(
    [f"{build}/bench/calls_bench", f"--benchmark_repetitions={repetitions}",
     "--benchmark_report_aggregates_only=true", "--benchmark_format=json"],
    check=True, capture_output=True, text=True).stdout
medians = {}
for b in json.loads(out)["benchmarks"]:
    if b.get("aggregate_name") == "median":
        name = b["run_name"].split("/")[0]
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3}[b["time_unit"]]
        medians[name] = b["real_time"] * scale  # microseconds

raw = medians["BM_RawSocketpairRoundTrip"]
add = medians["BM_ProxyAddRoundTrip"]
pipelined = medians["BM_ProxyPipelined64"] / 64
spawn = medians["BM_SpawnToFirstCall"]
fork_exec = medians["BM_ForkExecSameBinary"]
print("| case | median | baseline (same run) | ratio |")
print("|---|---|---|---|")
print(f"| sync add(int, int) round trip | {add:.1f} µs | raw socketpair 40 B round trip {raw:.1f} µs | {add / raw:.2f}× |")
print(f"| 64 calls in flight, per call | {pipelined:.2f} µs ({1e6 / pipelined:,.0f} calls/s) | sync add {add:.1f} µs | {pipelined / add:.2f}× |")
print(f"| spawn to first result | {spawn:,.0f} µs | fork+exec of the same binary {fork_exec:,.0f} µs | {spawn / fork_exec:.2f}× |")
