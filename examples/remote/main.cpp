// The remote example: a demo::Machine runs on another machine, through ssh.
//
//   remote_machine                         ssh -T -o BatchMode=yes localhost --
//   remote_machine ssh -T -p 2222 host --  any launcher, given as the arguments
//
// The program is its own child: ssh runs this same path on the other
// machine (so it must exist there: on localhost it does). See docs/remote.md.

#include <cstdio>
#include <string>
#include <vector>

#include "machine.procxy.h"

int main(int argc, char** argv) {
  procxy::serve_if_child(argc, argv);

  procxy::Options options;
  options.launcher = {"ssh", "-T", "-o", "BatchMode=yes", "localhost", "--"};
  if (argc > 1) options.launcher.assign(argv + 1, argv + argc);
  try {
    auto machine = procxy::spawn<demo::Machine>(options);
    std::printf("running on %s as pid %d there (ssh is pid %d here)\n", machine->hostname().c_str(),
                static_cast<int>(machine.remote_pid()), static_cast<int>(machine.pid()));
    auto progress = machine.on(&demo::Machine::progress, [](int percent) { std::printf("  %d%%\n", percent); });
    std::string text;
    for (int i = 0; i < 100'000; ++i) text += "the quick brown fox ";
    std::uint64_t words = machine->count_words(text);
    std::printf("%llu words counted over there\n", static_cast<unsigned long long>(words));
    return words == 400'000 ? 0 : 1;
  } catch (const procxy::SpawnError& e) {
    // ssh could not connect or log in, or this program is missing over there.
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
}
