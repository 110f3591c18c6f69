#!/usr/bin/env bash
# The whole test suite, as CI runs it, each part in its own build directory:
#   build/       the suite (ctest)
#   build-asan/  the suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   build-tsan/  the suite under ThreadSanitizer
#   build-fuzz/  the frame and message fuzzers (clang), each for FUZZ_SECONDS (30)
#   package:     build-shared/, the suite in Release against a shared runtime,
#                then its Debian packages installed (through apt-get) and an
#                outside project built against them; build-clang/, a Release
#                build with clang (its thread-safety analysis included)
# Every build treats warnings as errors.
# Usage: scripts/check.sh [plain|asan|tsan|fuzz|package]...   (default: all five)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=${JOBS:-2}
fuzz_seconds=${FUZZ_SECONDS:-30}
# Sanitized builds skip what only costs time there: examples and benchmarks.
lean=(-DPROCXY_BUILD_EXAMPLES=OFF -DPROCXY_BUILD_BENCH=OFF)
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

suite() {
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja -DPROCXY_WERROR=ON "$@"
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
  cmake -S . -B build-fuzz -G Ninja -DPROCXY_WERROR=ON -DCMAKE_CXX_COMPILER=clang++-14 \
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

package() {
  # Installed to /usr, as the packages install it.
  suite build-shared -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON -DCMAKE_INSTALL_PREFIX=/usr \
    -DPROCXY_BUILD_BENCH=OFF
  rm -f build-shared/*.deb
  (cd build-shared && cpack -G DEB)
  local deb
  packages=()
  for deb in "$root"/build-shared/*.deb; do
    dpkg-deb --field "$deb" Package Version Depends
    packages+=("$(dpkg-deb --field "$deb" Package)")
  done
  # Removed again whatever happens, so that no later build sees them.
  trap remove_packages EXIT
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$root"/build-shared/*.deb
  cmake -DPREFIX=/usr -DPROCXY_SOURCE_DIR="$root" -P tests/consumers/run.cmake
  remove_packages
  trap - EXIT
  # The runtime, the generator and the examples: what users build (the
  # benchmarks are built by g++ in plain).
  cmake -S . -B build-clang -G Ninja -DPROCXY_WERROR=ON -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++-14 \
    -DPROCXY_BUILD_TESTS=OFF -DPROCXY_BUILD_BENCH=OFF
  cmake --build build-clang -j"$jobs"
}

remove_packages() {
  DEBIAN_FRONTEND=noninteractive $sudo apt-get purge -y -qq "${packages[@]}"
}

parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(plain asan tsan fuzz package)
for part in "${parts[@]}"; do
  case $part in
    plain | asan | tsan | fuzz | package) echo "==== $part" && "$part" ;;
    *) echo "unknown part '$part' (plain, asan, tsan, fuzz, package)" >&2 && exit 2 ;;
  esac
done
