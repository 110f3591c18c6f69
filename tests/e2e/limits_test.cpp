// SPEC §11: Options::limits. memory, cpu and open_files are set in the child
// before its main() runs, and a child over one fails in a way that names it.

#include <signal.h>
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "hog.procxy.h"
#include "shared_support.h"
#include "test_support.h"

using e2e::Hog;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;

procxy::Options separate() {
  procxy::Options options;
  options.dedupe = false;  // each test its own child, with its own limits
  return options;
}

}  // namespace

TEST_CASE("an allocation past Options::limits.memory is a std::bad_alloc naming the limit", "[limits]") {
  if (e2e::kSanitized) {
    // ASan and TSan reserve terabytes of address space for their shadow
    // memory at start: under RLIMIT_AS the child could not even start.
    WARN("skipped under a sanitizer: RLIMIT_AS (Options::limits.memory) cannot coexist with its shadow memory");
    return;
  }
  procxy::Options options = separate();
  options.limits.memory = 512 * kMiB;
  auto hog = procxy::spawn<Hog>(options);
  CHECK(hog->soft_limit(RLIMIT_AS) == static_cast<std::int64_t>(512 * kMiB));
  CHECK(hog->hard_limit(RLIMIT_AS) == static_cast<std::int64_t>(512 * kMiB));
  CHECK(hog->allocate(16 * kMiB) == 1);  // under the limit: fine
  try {
    hog->allocate(2048 * kMiB);
    FAIL("2 GiB allocated under a 512 MiB limit");
  } catch (const procxy::RemoteException& e) {
    INFO(e.what());
    CHECK(e.type_name() == "std::bad_alloc");
    CHECK_THAT(e.what(), Catch::Contains("child") && Catch::Contains("e2e::Hog::allocate") &&
                             Catch::Contains("limited to 536870912 bytes") &&
                             Catch::Contains("Options::limits.memory"));
    CHECK_THAT(e.message(), Catch::Contains("Options::limits.memory"));
  }
  CHECK(hog->ping() == 1);  // the child keeps serving
  CHECK(hog.alive());
}

TEST_CASE("a child without a memory limit says nothing of one in its std::bad_alloc", "[limits]") {
  if (e2e::kSanitized) {
    // ASan aborts the child on an allocation this size instead of throwing.
    WARN("skipped under a sanitizer: its allocator aborts on a 2^62-byte new rather than throwing std::bad_alloc");
    return;
  }
  auto hog = procxy::spawn<Hog>(separate());
  if (hog->soft_limit(RLIMIT_AS) != -1) {
    WARN("skipped: this test runs under an inherited RLIMIT_AS (ulimit -v)");
    return;
  }
  // More than any address space: new fails at once, without touching memory.
  try {
    hog->allocate(std::uint64_t{1} << 62);
    FAIL("2^62 bytes allocated");
  } catch (const procxy::RemoteException& e) {
    CHECK(e.type_name() == "std::bad_alloc");
    CHECK_THAT(e.what(), !Catch::Contains("Options::limits.memory"));
  }
}

TEST_CASE("a child over Options::limits.cpu dies with a ChildExitedError naming the limit", "[limits]") {
  procxy::Options options = separate();
  options.limits.cpu = 1s;
  auto hog = procxy::spawn<Hog>(options);
  CHECK(hog->soft_limit(RLIMIT_CPU) == 1);
  CHECK(hog->hard_limit(RLIMIT_CPU) == 2);  // SIGXCPU first, at the soft limit
  auto started = std::chrono::steady_clock::now();
  try {
    hog->spin();
    FAIL("spin() returned");
  } catch (const procxy::ChildExitedError& e) {
    INFO(e.what());
    CHECK(e.signal() == SIGXCPU);
    CHECK_THAT(e.what(), Catch::Contains("the child exceeded its CPU time limit of 1 s") &&
                             Catch::Contains("Options::limits.cpu") && Catch::Contains("RLIMIT_CPU"));
  }
  CHECK(std::chrono::steady_clock::now() - started < e2e::bound(20s));
  // Every later call says the same.
  CHECK_THROWS_WITH(hog->ping(), Catch::Contains("Options::limits.cpu"));
  CHECK_FALSE(hog.alive());
}

TEST_CASE("a child that dies by another signal under a cpu limit does not blame the limit", "[limits]") {
  procxy::Options options = separate();
  options.limits.cpu = 100s;
  auto hog = procxy::spawn<Hog>(options);
  auto spinning = hog.async()->spin();
  ::kill(hog.pid(), SIGKILL);
  try {
    spinning.get();
    FAIL("spin() returned");
  } catch (const procxy::ChildExitedError& e) {
    CHECK(e.signal() == SIGKILL);
    CHECK_THAT(e.what(), !Catch::Contains("Options::limits.cpu"));
  }
}

TEST_CASE("Options::limits.open_files bounds the child's file descriptors", "[limits]") {
  procxy::Options options = separate();
  options.limits.open_files = 32;
  auto hog = procxy::spawn<Hog>(options);
  CHECK(hog->soft_limit(RLIMIT_NOFILE) == 32);
  CHECK(hog->hard_limit(RLIMIT_NOFILE) == 32);
  CHECK(hog->open_files(8) == 8);
  // The object's own error, as it threw it.
  CHECK_THROWS_AS(hog->open_files(100), std::runtime_error);
  CHECK_THROWS_WITH(hog->open_files(100),
                    Catch::Contains("e2e::Hog::open_files") && Catch::Contains("Too many open files"));
  CHECK(hog->ping() == 1);         // the child keeps serving
  CHECK(hog->open_files(8) == 8);  // and closed what it opened
}

TEST_CASE("a limit the child cannot set makes spawn throw SpawnError naming it", "[limits]") {
  procxy::Options options = separate();
  options.limits.open_files = 1 << 30;  // above any hard limit, and above fs.nr_open even for root
  std::size_t before = procxy::children().size();
  try {
    procxy::spawn<Hog>(options);
    FAIL("a child started with 2^30 open files");
  } catch (const procxy::SpawnError& e) {
    INFO(e.what());
    CHECK_THAT(e.what(), Catch::StartsWith("procxy: child ") &&
                             Catch::Contains("cannot set Options::limits.open_files = 1073741824 (RLIMIT_NOFILE)") &&
                             Catch::Contains("Operation not permitted") && Catch::Contains("ulimit -Hn") &&
                             Catch::Contains("lower Options::limits.open_files"));
  }
  CHECK(e2e::eventually([&] { return procxy::children().size() <= before; }, e2e::bound(5s)));
  // A shared child reports it the same way.
  CHECK_THROWS_WITH(procxy::attach<Hog>(e2e::unique_name("limits"), options),
                    Catch::StartsWith("procxy: child ") &&
                        Catch::Contains("cannot set Options::limits.open_files = 1073741824 (RLIMIT_NOFILE)"));
  // A limit within the hard one starts as usual.
  options.limits.open_files = 64;
  CHECK(procxy::spawn<Hog>(options)->soft_limit(RLIMIT_NOFILE) == 64);
}

TEST_CASE("limits of zero or less are refused before anything starts", "[limits]") {
  auto rejected = [](const procxy::Options& options) {
    try {
      procxy::spawn<Hog>(options);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("nothing thrown");
  };
  procxy::Options options;
  options.limits.cpu = 0s;
  CHECK_THAT(rejected(options), Catch::StartsWith("procxy: parent: spawn(): Options::limits.cpu is 0 s"));
}

TEST_CASE("spawns under different limits never share a child", "[limits]") {
  procxy::Options limited;
  limited.limits.open_files = 64;
  auto a = procxy::spawn<Hog>();
  auto b = procxy::spawn<Hog>(limited);
  auto c = procxy::spawn<Hog>(limited);
  CHECK(a.pid() != b.pid());
  CHECK(b.pid() == c.pid());  // the same limits: deduplicated as usual
  CHECK(b->soft_limit(RLIMIT_NOFILE) == 64);
  CHECK(a->soft_limit(RLIMIT_NOFILE) != 64);
}
