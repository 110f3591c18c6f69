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
rates = {}  # the same-query benchmark: (calls/s, requests per call), by coalesce argument
for b in json.loads(out)["benchmarks"]:
    if b.get("aggregate_name") == "median":
        name = b["run_name"].split("/")[0]
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3}[b["time_unit"]]
        medians[name] = b["real_time"] * scale  # microseconds
        if name == "BM_SameQuery64Threads":
            rates[b["run_name"].split("/")[1]] = (b["items_per_second"], b["requests_per_call"])

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
off_rate, off_requests = rates["coalesce:0"]
on_rate, on_requests = rates["coalesce:1"]
# 64 callers always waiting: each call takes 64 / rate (Little's law).
print(f"| 64 threads, same query (100 µs in the child), coalesced | {on_rate:,.0f} calls/s, "
      f"{64e3 / on_rate:.2f} ms per call, {on_requests:.3f} requests per call | not coalesced: {off_rate:,.0f} calls/s, "
      f"{64e3 / off_rate:.2f} ms per call, {off_requests:.0f} request per call | {on_rate / off_rate:.1f}× the calls/s |")
