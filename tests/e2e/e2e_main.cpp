// The e2e test program. It is also the children's program: procxy re-executes
// it, and serve_if_child() serves there. With --spawn-and-hang it plays a
// parent that the process tests kill (--spawn-remote-and-hang: through a
// launcher); with --attach, one of several processes
// sharing a child; with --print-child-signals, a parent with unusual signal
// settings; with --stall, a client of a shared child that stops reading;
// with --exhaust-threads, one that takes all its threads; with --log-to-sink,
// one whose procxy log goes to a sink; with --print-with, one whose child
// prints through Options::output.

#define CATCH_CONFIG_RUNNER
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <barrier>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "service.procxy.h"
#include "test_support.h"

namespace {

// Spawns `count` children busy in long calls, prints their pids, waits to be killed.
int spawn_and_hang(int count) {
  std::vector<procxy::Proxy<e2e::Service>> children;
  std::vector<std::future<void>> calls;
  procxy::Options separate;
  separate.dedupe = false;
  for (int i = 0; i < count; ++i) {
    children.push_back(procxy::spawn<e2e::Service>(separate));
    calls.push_back(children.back().async()->sleep_ms(60'000));
    std::printf("%d\n", static_cast<int>(children.back().pid()));
  }
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::minutes(1));
  return 0;
}

// Spawns a child through the launcher `words`, busy in a long call, prints
// its remote pid and waits to be killed.
int spawn_remote_and_hang(std::vector<std::string> words) {
  procxy::Options options;
  options.launcher = std::move(words);
  auto child = procxy::spawn<e2e::Service>(options);
  auto call = child.async()->sleep_ms(60'000);
  std::printf("%d\n", static_cast<int>(child.remote_pid()));
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::minutes(1));
  return 0;
}

// Ignores SIGUSR1 and blocks SIGUSR2 before any thread exists (the runtime's
// threads inherit the mask), spawns, and prints the child's ignored and
// blocked signal masks as /proc/<pid>/status shows them.
int print_child_signals() {
  ::signal(SIGUSR1, SIG_IGN);
  sigset_t usr2;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  ::sigprocmask(SIG_BLOCK, &usr2, nullptr);
  auto service = procxy::spawn<e2e::Service>();
  std::printf("%s %s\n", service->proc_status("SigIgn").c_str(), service->proc_status("SigBlk").c_str());
  return 0;
}

// Sends procxy's log to a sink, makes a timeout, a retry, an exception from
// the child and a restart, and prints what the sink received, one
// "category|line" a line. Run with PROCXY_DEBUG=call.
int log_to_sink() {
  std::mutex mutex;
  std::vector<std::string> lines;
  procxy::set_log_sink([&](std::string_view category, std::string_view line) {
    std::lock_guard<std::mutex> lock(mutex);
    lines.push_back(std::string(category) + "|" + std::string(line));
  });
  {
    procxy::Options options;
    options.restart = true;
    options.retries = 1;
    options.concurrency = 2;  // the retry runs while the first attempt still sleeps
    auto service = procxy::spawn<e2e::Service>(options);
    // The first attempt sleeps past its limit; the retry returns at once.
    service.with({.timeout = e2e::bound(std::chrono::milliseconds(150))})
        ->slow_first(static_cast<int>(e2e::bound(std::chrono::milliseconds(600)).count()));
    try {
      service->throw_std("out_of_range", "index 7");
    } catch (const std::out_of_range&) {
    }
    service.async()->crash("kill");
    e2e::eventually([&] { return !service.alive(); }, e2e::bound(std::chrono::seconds(5)));
    service->add(1, 2);  // on a new child
  }
  procxy::set_log_sink({});
  std::lock_guard<std::mutex> lock(mutex);
  for (const std::string& line : lines) std::printf("%s\n", line.c_str());
  return 0;
}

// A listener that throws on every other event; the log always reports it.
int throwing_listener() {
  auto service = procxy::spawn<e2e::Service>();
  int seen = 0;
  service.on(&e2e::Service::progress, [&](int p) {
    ++seen;
    if (p % 2 == 0) throw std::runtime_error("listener trouble");
  });
  service->emit_progress(3);
  std::printf("events seen: %d\n", seen);
  return 0;
}

// Spawns, coalesces and hits the cache, for the PROCXY_DEBUG=dedup,coalesce test.
int dedup_and_coalesce() {
  std::vector<procxy::Proxy<e2e::Service>> proxies;
  std::mutex mutex;
  std::barrier start(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      auto proxy = procxy::spawn<e2e::Service>(11);  // the first misses, the others wait for its start
      std::lock_guard<std::mutex> lock(mutex);
      proxies.push_back(proxy);
    });
  }
  for (auto& thread : threads) thread.join();
  auto service = procxy::spawn<e2e::Service>(11);  // cached
  auto first = service.async()->slow_query(1, 300);
  auto second = service.async()->slow_query(1, 300);  // joins the first
  int sum = first.get() + second.get();
  sum += service->cached_square(3) + service->cached_square(3);  // the second from the cache
  std::printf("sum: %d\n", sum);
  return 0;
}

// Attaches to the shared Service `name` once the realtime clock reaches
// `at_ns` (0: at once), calls it, and prints "pid <pid> sum <sum>"; or prints
// the error and fails. The shared child is started with `idle_ms`.
int attach_and_call(const char* name, long long at_ns, int idle_ms) {
  if (at_ns > 0) {
    std::this_thread::sleep_until(std::chrono::system_clock::time_point(std::chrono::nanoseconds(at_ns)));
  }
  try {
    procxy::Options options;
    options.idle_exit = std::chrono::milliseconds(idle_ms);
    auto service = procxy::attach<e2e::Service>(name, options);
    std::printf("pid %d sum %d\n", static_cast<int>(service.pid()), service->add(2, 3));
    return 0;
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
}

// A client of the shared Service `name` that stops reading: with "events"
// it subscribes to chunk events, with "calls" it sends calls whose replies
// come after a slow one; then it stops itself (SIGSTOP), and exits when
// continued.
int stall(const char* name, const std::string& how) {
  auto service = procxy::attach<e2e::Service>(name, procxy::Options{});
  std::vector<std::future<std::string>> replies;
  if (how == "events") {
    service.on(&e2e::Service::chunk, [](const std::vector<std::byte>&) {});
  } else {
    auto slow = service.async()->sleep_ms(e2e::kSanitized ? 8000 : 1000);  // the replies after it come once stopped
    std::string text(1024, 'x');
    for (int i = 0; i < 20'000; ++i) replies.push_back(service.async()->echo(text));
  }
  std::printf("stalling\n");
  std::fflush(stdout);
  ::raise(SIGSTOP);
  std::_Exit(0);  // the replies are not wanted, nor is a goodbye to the child
}

// Starts the shared Service `name`, connects 100 clients that say nothing
// (so that, under a low RLIMIT_NPROC, the child runs out of threads for
// them), and attaches again once the child has ended them. Prints what each
// step saw.
int exhaust_threads(const char* name) {
  try {
    procxy::Options options;
    options.timeout = std::chrono::seconds(30);
    auto first = procxy::attach<e2e::Service>(name, options);
    std::vector<int> silent;
    for (int i = 0; i < 100; ++i) {
      int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_un address{};
      address.sun_family = AF_UNIX;
      std::string path = std::string(std::getenv("XDG_RUNTIME_DIR")) + "/procxy/" + name + ".sock";
      path.copy(address.sun_path, sizeof address.sun_path - 1);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) silent.push_back(fd);
    }
    std::this_thread::sleep_for(std::chrono::seconds(e2e::kSanitized ? 8 : 4));  // past the handshake deadline
    for (int fd : silent) ::close(fd);
    auto second = procxy::attach<e2e::Service>(name, options);
    std::printf("child %d then %d: %d\n", static_cast<int>(first.pid()), static_cast<int>(second.pid()),
                second->add(2, 3));
    first.terminate();
    return 0;
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
}

// Spawns a Service whose output goes as `mode` says (inherit, prefix,
// discard), has it print "hello out" on its stdout and "hello err" on its
// stderr, prints "pid <pid>" and terminates it: for the Options::output tests,
// which read this program's stdout and stderr.
int print_with(const std::string& mode) {
  procxy::Options options;
  options.dedupe = false;
  if (mode == "prefix") options.output = procxy::Output::prefix();
  if (mode == "discard") options.output = procxy::Output::discard();
  auto service = procxy::spawn<e2e::Service>(options);
  service->print({"hello out"}, {"hello err"});
  std::printf("pid %d\n", static_cast<int>(service.pid()));
  std::fflush(stdout);
  service.terminate();  // returns once the child's lines are out
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  procxy::serve_if_child(argc, argv);
  if (argc == 3 && std::strcmp(argv[1], "--spawn-and-hang") == 0) return spawn_and_hang(std::atoi(argv[2]));
  if (argc >= 3 && std::strcmp(argv[1], "--spawn-remote-and-hang") == 0) {
    return spawn_remote_and_hang(std::vector<std::string>(argv + 2, argv + argc));
  }
  if (argc == 2 && std::strcmp(argv[1], "--throwing-listener") == 0) return throwing_listener();
  if (argc == 2 && std::strcmp(argv[1], "--log-to-sink") == 0) return log_to_sink();
  if (argc == 2 && std::strcmp(argv[1], "--print-child-signals") == 0) return print_child_signals();
  if (argc == 2 && std::strcmp(argv[1], "--dedup-and-coalesce") == 0) return dedup_and_coalesce();
  if (argc == 3 && std::strcmp(argv[1], "--print-with") == 0) return print_with(argv[2]);
  if (argc == 4 && std::strcmp(argv[1], "--stall") == 0) return stall(argv[2], argv[3]);
  if (argc == 3 && std::strcmp(argv[1], "--exhaust-threads") == 0) return exhaust_threads(argv[2]);
  if (argc == 5 && std::strcmp(argv[1], "--attach") == 0) {
    return attach_and_call(argv[2], std::atoll(argv[3]), std::atoi(argv[4]));
  }
  return Catch::Session().run(argc, argv);
}
