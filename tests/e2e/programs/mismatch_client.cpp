// A client built from another interface of e2e::Service (../mismatch/service.h):
// attaches to the shared child argv[1], starting it (from this program) when
// none runs, and prints "pid <pid> sum <sum>" or the error it got.

#include <chrono>
#include <cstdio>
#include <exception>

#include "service.procxy.h"

int main(int argc, char** argv) {
  procxy::serve_if_child(argc, argv);
  if (argc != 2) return 2;
  try {
    procxy::Options options;
    options.idle_exit = std::chrono::seconds(5);
    auto service = procxy::attach<e2e::Service>(argv[1], options);
    std::printf("pid %d sum %d\n", static_cast<int>(service.pid()), service->add(2, 3));
    return 0;
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
}
