#include <cstdio>

#include "greeter.procxy.h"

int main(int argc, char** argv) {
  procxy::serve_if_child(argc, argv);
  auto greeter = procxy::spawn<Greeter>();
  procxy::Options agent;
  agent.executable = AGENT;
  auto remote = procxy::spawn<Greeter>(agent);
  std::printf("%s / %s\n", greeter->greet("child").c_str(), remote->greet("agent").c_str());
  return greeter->greet("x") == "hello, x" && remote->greet("y") == "hello, y" ? 0 : 1;
}
