// A program that spawns children of itself but forgets serve_if_child(): the
// child must refuse to run main() a second time and the spawn must say why.

#include <cstdio>

#include "extra.procxy.h"

int main() {
  std::printf("main ran\n");
  std::fflush(stdout);
  try {
    procxy::spawn<e2e::Extra>();
    std::printf("spawn succeeded\n");
    return 1;
  } catch (const procxy::SpawnError& e) {
    std::printf("SpawnError: %s\n", e.what());
    return 0;
  }
}
