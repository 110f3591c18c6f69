#!/usr/bin/env python3
"""Runs calls_bench and prints docs/performance.md's comparison table: every
case measured raw (socketpair), through Cap'n Proto RPC and through procxy in
the same run, as medians of the repetitions, with procxy's ratios to both.

Usage: bench/compare.py BUILD_DIR [REPETITIONS]
"""
import json
import subprocess
import sys

build = sys.argv[1] if len(sys.argv) > 1 else "build"
repetitions = sys.argv[2] if len(sys.argv) > 2 else "10"
# Repetitions run interleaved in random order: this VM's timing drifts by tens
# of percent over seconds, and raw, Cap'n Proto and procxy should each see the
# same drift rather than a window of their own.
out = subprocess.run(
    [f"{build}/bench/calls_bench", f"--benchmark_repetitions={repetitions}",
     "--benchmark_enable_random_interleaving=true",
     "--benchmark_report_aggregates_only=true", "--benchmark_format=json"],
    check=True, capture_output=True, text=True).stdout

SCALE = {"ns": 1e-3, "us": 1.0, "ms": 1e3}
median = {}  # "case.impl" (with any arguments) -> the median run
for b in json.loads(out)["benchmarks"]:
    if b.get("aggregate_name") == "median":
        name, *arguments = b["run_name"].split("/")
        median[name + "".join("/" + a for a in arguments if a.startswith("coalesce:"))] = b


def time_us(key):
    b = median.get(key)
    return b["real_time"] * SCALE[b["time_unit"]] if b else None


def rate(key):
    b = median.get(key)
    return b["items_per_second"] if b else None


def fmt_time(us):
    if us is None:
        return "—"
    return f"{us / 1000:,.0f} ms" if us >= 10_000 else f"{us:,.0f} µs" if us >= 100 else f"{us:.1f} µs"


def fmt_rate(per_s):
    return "—" if per_s is None else f"{per_s / 1000:,.0f} k/s"


def ratio(a, b):
    return "—" if a is None or b is None else f"{a / b:.2f}×"


# (case, what, unit, target): times compare as procxy / other, rates as other / procxy,
# so that below 1 is always better for procxy.
CASES = [
    ("sync_add", "sync `add(int, int)`, one call", "time", "≤ 1.2× raw, ≤ 0.5× capnp"),
    ("in_flight_64", "64 `add` calls in flight (calls/s)", "rate", "capnp ≥ 2× (ratio ≤ 0.5)"),
    ("string_1k", "1 KiB string, echoed", "time", ""),
    ("blob_1m", "1 MiB byte vector, each way", "time", "≤ 1.2× raw"),
    ("events", "event stream (events/s delivered)", "rate", ""),
    ("spawn", "spawn to first result", "time", "≤ 1.5× raw (fork+exec)"),
    ("generator", "code generation, one header", "time", "≤ 1 s"),
]

print("| case | raw | Cap'n Proto RPC | procxy | procxy vs raw | procxy vs capnp | target |")
print("|---|---|---|---|---|---|---|")
for case, what, unit, target in CASES:
    if unit == "time":
        raw, capnp, ours = (time_us(f"{case}.{impl}") for impl in ("raw", "capnp", "procxy"))
        cells = [fmt_time(raw), fmt_time(capnp), fmt_time(ours), ratio(ours, raw), ratio(ours, capnp)]
    else:
        raw, capnp, ours = (rate(f"{case}.{impl}") for impl in ("raw", "capnp", "procxy"))
        cells = [fmt_rate(raw), fmt_rate(capnp), fmt_rate(ours), ratio(raw, ours), ratio(capnp, ours)]
    print(f"| {what} | " + " | ".join(cells) + f" | {target} |")

print()
print("The sandbox (docs/sandbox.md): the same cases with `Options::sandbox` on.")
print()
print("| case | procxy | sandboxed | sandboxed vs procxy |")
print("|---|---|---|---|")
for case, what in (("sync_add", "sync `add(int, int)`, one call"), ("spawn", "spawn to first result")):
    ours, boxed = time_us(f"{case}.procxy"), time_us(f"{case}.sandboxed")
    print(f"| {what} | {fmt_time(ours)} | {fmt_time(boxed)} | {ratio(boxed, ours)} |")

print()
print("Coalescing (docs/dedup.md): 64 threads call one `PROCXY_QUERY` that sleeps 100 µs in the child.")
print()
print("| coalesce | calls/s | time per call | requests per call |")
print("|---|---|---|---|")
for arg in ("0", "1"):
    b = median.get(f"same_query_64_threads.procxy/coalesce:{arg}")
    if b:
        per_s = b["items_per_second"]
        # 64 callers always waiting: each call takes 64 / rate (Little's law).
        print(f"| {'on' if arg == '1' else 'off'} | {per_s:,.0f} | {64e3 / per_s:.2f} ms | {b['requests_per_call']:.3f} |")
