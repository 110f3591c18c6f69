#pragma once

// The cases bench/compare.py tabulates, each measured three ways in one run:
// "<case>.raw" (blocking reads and writes on a socketpair: the floor),
// "<case>.capnp" (Cap'n Proto two-party RPC over a socketpair) and
// "<case>.procxy". The sizes and counts below are shared by all three.

#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <string>
#include <vector>

namespace bench {

// The bytes one add(int, int) call puts on procxy's wire each way: the
// 16-byte frame header, the 8-byte segment table and a 16-byte message (root
// pointer and one data word). The raw round trip sends as many.
inline constexpr std::size_t kAddBytes = 40;
inline constexpr std::size_t kStringBytes = 1024;
inline constexpr std::size_t kBlobBytes = 1 << 20;
inline constexpr int kInFlight = 64;
inline constexpr int kTicks = 1000;  // events per iteration of the event stream

// Blocking whole-buffer I/O for the raw baseline; a failure ends the process.
inline void full_write(int fd, const void* data, std::size_t n) {
  auto* p = static_cast<const char*>(data);
  while (n) {
    ssize_t k = ::write(fd, p, n);
    if (k <= 0) _exit(1);
    p += k;
    n -= static_cast<std::size_t>(k);
  }
}

inline void full_read(int fd, void* data, std::size_t n) {
  auto* p = static_cast<char*>(data);
  while (n) {
    ssize_t k = ::read(fd, p, n);
    if (k <= 0) _exit(1);
    p += k;
    n -= static_cast<std::size_t>(k);
  }
}

// Runs the program argv[0] with `argv` to completion; false if it could not
// run or failed.
inline bool run_program(std::vector<std::string> argv) {
  std::vector<char*> pointers;
  for (std::string& arg : argv) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execv(pointers[0], pointers.data());
    _exit(127);
  }
  int status = 0;
  return ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// The Cap'n Proto RPC server of the ".capnp" cases: serves bench::Bench on
// `fd` until the client disconnects (capnp_bench.cpp). Run in a child made by
// re-executing this program with kCapnpServerFlag.
int serve_capnp(int fd);
inline constexpr const char* kCapnpServerFlag = "--capnp-server";
// The program exits at once: the bare fork+exec of the spawn case.
inline constexpr const char* kExitAtOnceFlag = "--exit-at-once";

}  // namespace bench
