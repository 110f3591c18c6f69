// The shared example: independent processes use one Tally in one shared
// child. Run without arguments, it starts three workers of itself at once;
// each attaches to "procxy-example-tally" and counts three hits. Exactly one
// of them starts the child; all see the same pid and one running total.

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "tally.procxy.h"

namespace {

int worker(const std::string& me) {
  procxy::Options options;
  options.idle_exit = std::chrono::seconds(2);  // the child leaves 2 s after the last worker
  auto tally = procxy::attach<demo::Tally>("procxy-example-tally", options);
  tally.on(&demo::Tally::hit_by, [&](const std::string& who, std::int64_t total) {
    if (who != me) std::printf("%s heard: %s made it %lld\n", me.c_str(), who.c_str(), static_cast<long long>(total));
  });
  for (int i = 0; i < 3; ++i) {
    std::int64_t total = tally->hit(me);
    std::printf("%s (pid %d, shared child %d): hit, total %lld\n", me.c_str(), static_cast<int>(::getpid()),
                static_cast<int>(tally.pid()), static_cast<long long>(total));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // hear the others' last hits
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  procxy::serve_if_child(argc, argv);
  if (argc == 3 && std::string(argv[1]) == "--worker") return worker(argv[2]);

  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  for (const char* name : {"worker-a", "worker-b", "worker-c"}) {
    if (::fork() == 0) {
      ::execl("/proc/self/exe", argv[0], "--worker", name, static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  int failures = 0;
  for (int status; ::wait(&status) > 0;) failures += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return failures == 0 ? 0 : 1;
}
