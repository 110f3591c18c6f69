// The ".capnp" cases: the same calls through Cap'n Proto's two-party RPC
// (Debian's libcapnp-dev), the library a user would otherwise reach for. The
// server is this program re-executed with --capnp-server, serving
// bench/capnp_bench.capnp on a socketpair; the client runs a KJ event loop
// on the benchmark's thread.

#include <benchmark/benchmark.h>
#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "bench_cases.h"
#include "capnp_bench.capnp.h"

namespace bench {
namespace {

class BenchImpl final : public Bench::Server {
 protected:
  kj::Promise<void> add(AddContext context) override {
    auto params = context.getParams();
    context.getResults().setSum(params.getA() + params.getB());
    return kj::READY_NOW;
  }
  kj::Promise<void> echo(EchoContext context) override {
    context.getResults().setText(context.getParams().getText());
    return kj::READY_NOW;
  }
  kj::Promise<void> mirror(MirrorContext context) override {
    context.getResults().setData(context.getParams().getData());
    return kj::READY_NOW;
  }
  kj::Promise<void> ticks(TicksContext context) override {
    auto params = context.getParams();
    Listener::Client listener = params.getListener();
    auto sent = kj::heapArrayBuilder<kj::Promise<void>>(params.getCount());
    for (int i = 0; i < params.getCount(); ++i) {
      auto request = listener.tickRequest();
      request.setValue(i);
      sent.add(request.send().ignoreResult());
    }
    return kj::joinPromises(sent.finish());
  }
};

class CountingListener final : public Listener::Server {
 public:
  explicit CountingListener(int& ticks) : ticks_(ticks) {}

 protected:
  kj::Promise<void> tick(TickContext) override {
    ++ticks_;
    return kj::READY_NOW;
  }

 private:
  int& ticks_;
};

// A server process and the client's connection to it, on this thread's event loop.
class Connection {
 public:
  Connection() : io_(kj::setupAsyncIo()) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) _exit(1);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(sv[1], 3);  // dup2 clears close-on-exec
      std::string fd = "3";
      ::execl("/proc/self/exe", "calls_bench", kCapnpServerFlag, fd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    ::close(sv[1]);
    stream_ = io_.lowLevelProvider->wrapSocketFd(sv[0], kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP);
    network_ = kj::heap<capnp::TwoPartyVatNetwork>(*stream_, capnp::rpc::twoparty::Side::CLIENT);
    rpc_ = kj::heap<capnp::RpcSystem<capnp::rpc::twoparty::VatId>>(capnp::makeRpcClient(*network_));
    capnp::word scratch[4] = {};
    capnp::MallocMessageBuilder message(scratch);
    auto server = message.getRoot<capnp::rpc::twoparty::VatId>();
    server.setSide(capnp::rpc::twoparty::Side::SERVER);
    bench_ = rpc_->bootstrap(server).castAs<Bench>();
  }
  ~Connection() {
    bench_ = nullptr;
    rpc_ = nullptr;
    network_ = nullptr;
    stream_ = nullptr;  // closes the socket: the server sees the disconnect and exits
    ::waitpid(pid_, nullptr, 0);
  }

  Bench::Client& bench() { return bench_; }
  kj::WaitScope& wait_scope() { return io_.waitScope; }

  int add(int a, int b) {
    auto request = bench_.addRequest();
    request.setA(a);
    request.setB(b);
    return request.send().wait(io_.waitScope).getSum();
  }

 private:
  kj::AsyncIoContext io_;
  pid_t pid_;
  kj::Own<kj::AsyncIoStream> stream_;
  kj::Own<capnp::TwoPartyVatNetwork> network_;
  kj::Own<capnp::RpcSystem<capnp::rpc::twoparty::VatId>> rpc_;
  Bench::Client bench_ = nullptr;
};

void sync_add(benchmark::State& state) {
  Connection connection;
  int x = 0;
  for (auto _ : state) benchmark::DoNotOptimize(x = connection.add(x, 1));
}
BENCHMARK(sync_add)->Name("sync_add.capnp")->UseRealTime();

void in_flight(benchmark::State& state) {
  Connection connection;
  for (auto _ : state) {
    auto calls = kj::heapArrayBuilder<kj::Promise<int>>(kInFlight);
    for (int i = 0; i < kInFlight; ++i) {
      auto request = connection.bench().addRequest();
      request.setA(i);
      request.setB(1);
      calls.add(request.send().then([](auto response) { return response.getSum(); }));
    }
    benchmark::DoNotOptimize(kj::joinPromises(calls.finish()).wait(connection.wait_scope()));
  }
  state.SetItemsProcessed(state.iterations() * kInFlight);
}
BENCHMARK(in_flight)->Name("in_flight_64.capnp")->UseRealTime();

void string_1k(benchmark::State& state) {
  Connection connection;
  std::string text(kStringBytes, 'x');
  for (auto _ : state) {
    auto request = connection.bench().echoRequest();
    request.setText(text);
    auto response = request.send().wait(connection.wait_scope());
    benchmark::DoNotOptimize(text = std::string(response.getText()));
  }
}
BENCHMARK(string_1k)->Name("string_1k.capnp")->UseRealTime();

void blob_1m(benchmark::State& state) {
  Connection connection;
  std::vector<kj::byte> data(kBlobBytes, 7);
  for (auto _ : state) {
    auto request = connection.bench().mirrorRequest();
    request.setData(kj::arrayPtr(data.data(), data.size()));
    auto response = request.send().wait(connection.wait_scope());
    auto back = response.getData();
    data.assign(back.begin(), back.end());
  }
}
BENCHMARK(blob_1m)->Name("blob_1m.capnp")->UseRealTime();

void events(benchmark::State& state) {
  Connection connection;
  int ticks = 0;
  Listener::Client listener = kj::heap<CountingListener>(ticks);
  for (auto _ : state) {
    auto request = connection.bench().ticksRequest();
    request.setListener(listener);
    request.setCount(kTicks);
    request.send().wait(connection.wait_scope());
  }
  if (ticks != state.iterations() * kTicks) state.SkipWithError("events were lost");
  state.SetItemsProcessed(state.iterations() * kTicks);
}
BENCHMARK(events)->Name("events.capnp")->UseRealTime();

// Start the server process and make the first call.
void spawn(benchmark::State& state) {
  for (auto _ : state) {
    Connection connection;
    benchmark::DoNotOptimize(connection.add(1, 2));
  }
}
BENCHMARK(spawn)->Name("spawn.capnp")->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

int serve_capnp(int fd) {
  kj::AsyncIoContext io = kj::setupAsyncIo();
  auto stream = io.lowLevelProvider->wrapSocketFd(fd, kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP);
  capnp::TwoPartyVatNetwork network(*stream, capnp::rpc::twoparty::Side::SERVER);
  auto rpc = capnp::makeRpcServer(network, kj::heap<BenchImpl>());
  network.onDisconnect().wait(io.waitScope);
  return 0;
}

}  // namespace bench
