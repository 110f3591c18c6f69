#!/usr/bin/env bash
# The whole test suite, as CI runs it, each part in its own build directory:
#   build/       the suite (ctest)
#   build-asan/  the suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   build-tsan/  the suite under ThreadSanitizer
#   build-fuzz/  the frame and message fuzzers (clang), each for FUZZ_SECONDS
# Usage: scripts/check.sh [plain|asan|tsan|fuzz]...   (default: all four)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=${JOBS:-2}
fuzz_seconds=${FUZZ_SECONDS:-60}
# Sanitized builds skip what only costs time there: examples and benchmarks.
lean=(-DPROCXY_BUILD_EXAMPLES=OFF -DPROCXY_BUILD_BENCH=OFF)

suite() {
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja "$@"
  cmake --build "$dir" -j"$jobs"
  ctest --test-dir "$dir" -j"$jobs" --output-on-failure
}

plain() { suite build; }

asan() {
  ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    suite build-asan -DPROCXY_SANITIZE=address "${lean[@]}"
}

tsan() {
  TSAN_OPTIONS="suppressions=$root/tests/tsan.supp:halt_on_error=1:second_deadlock_stack=1:atexit_sleep_ms=0" \
    suite build-tsan -DPROCXY_SANITIZE=thread "${lean[@]}"
}

fuzz() {
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    -DPROCXY_SANITIZE=fuzz "${lean[@]}"
  cmake --build build-fuzz -j"$jobs" --target fuzz_frame fuzz_message fuzz_seeds
  # Seeds are read, not added to: new inputs go to the first directory.
  build-fuzz/tests/fuzz/fuzz_seeds build-fuzz/seeds/fuzz_frame build-fuzz/seeds/fuzz_message
  for target in fuzz_frame fuzz_message; do
    local corpus=build-fuzz/corpus/$target
    mkdir -p "$corpus"
    echo "== $target for ${fuzz_seconds}s"
    build-fuzz/tests/fuzz/$target -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=4096 \
      -print_final_stats=1 "$corpus" "build-fuzz/seeds/$target"
  done
}

parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(plain asan tsan fuzz)
for part in "${parts[@]}"; do
  case $part in
    plain | asan | tsan | fuzz) echo "==== $part" && "$part" ;;
    *) echo "unknown part '$part' (plain, asan, tsan, fuzz)" >&2 && exit 2 ;;
  esac
done
