// The ".raw" cases: what the same exchanges cost with nothing but blocking
// reads and writes on a socketpair between two processes, as in
// ../shared/bench/pingpong.cpp. The floor any socket-based call path stands on.

#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <vector>

#include "bench_cases.h"

namespace bench {
namespace {

// A forked process running `serve` on its end of a socketpair until killed.
class Peer {
 public:
  explicit Peer(const std::function<void(int fd)>& serve) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) _exit(1);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(sv[0]);
      serve(sv[1]);
      _exit(0);
    }
    ::close(sv[1]);
    fd_ = sv[0];
  }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;
  ~Peer() {
    ::close(fd_);
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  int fd() const { return fd_; }

 private:
  pid_t pid_;
  int fd_;
};

// Echoes messages of `size` bytes, one at a time.
Peer echo_peer(std::size_t size) {
  return Peer([size](int fd) {
    std::vector<char> message(size);
    for (;;) {
      full_read(fd, message.data(), size);
      full_write(fd, message.data(), size);
    }
  });
}

void round_trip(benchmark::State& state, std::size_t size) {
  Peer peer = echo_peer(size);
  std::vector<char> message(size, 'x');
  for (auto _ : state) {
    full_write(peer.fd(), message.data(), size);
    full_read(peer.fd(), message.data(), size);
  }
}

void sync_add(benchmark::State& state) { round_trip(state, kAddBytes); }
BENCHMARK(sync_add)->Name("sync_add.raw")->UseRealTime();

void string_1k(benchmark::State& state) { round_trip(state, kStringBytes); }
BENCHMARK(string_1k)->Name("string_1k.raw")->UseRealTime();

void blob_1m(benchmark::State& state) { round_trip(state, kBlobBytes); }
BENCHMARK(blob_1m)->Name("blob_1m.raw")->UseRealTime();

// 64 messages written one by one before the first echo is read.
void in_flight(benchmark::State& state) {
  Peer peer = echo_peer(kAddBytes);
  std::vector<char> message(kAddBytes, 'x');
  std::vector<char> echoes(kAddBytes * kInFlight);
  for (auto _ : state) {
    for (int i = 0; i < kInFlight; ++i) full_write(peer.fd(), message.data(), kAddBytes);
    full_read(peer.fd(), echoes.data(), echoes.size());
  }
  state.SetItemsProcessed(state.iterations() * kInFlight);
}
BENCHMARK(in_flight)->Name("in_flight_64.raw")->UseRealTime();

// On a one-byte request, the peer writes kTicks messages, one write each.
void events(benchmark::State& state) {
  Peer peer([](int fd) {
    std::vector<char> message(kAddBytes, 'x');
    for (char go;;) {
      full_read(fd, &go, 1);
      for (int i = 0; i < kTicks; ++i) full_write(fd, message.data(), message.size());
    }
  });
  std::vector<char> stream(kAddBytes * kTicks);
  for (auto _ : state) {
    full_write(peer.fd(), "g", 1);
    full_read(peer.fd(), stream.data(), stream.size());
  }
  state.SetItemsProcessed(state.iterations() * kTicks);
}
BENCHMARK(events)->Name("events.raw")->UseRealTime();

// A fork and exec of this program, which exits at once.
void spawn(benchmark::State& state) {
  for (auto _ : state) {
    if (!run_program({"/proc/self/exe", kExitAtOnceFlag})) {
      state.SkipWithError("this program did not exit cleanly");
      break;
    }
  }
}
BENCHMARK(spawn)->Name("spawn.raw")->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace bench
