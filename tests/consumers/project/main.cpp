// Checks the installed procxy end to end: a child of this program and an
// agent executable each serve a Greeter. Exits 0 only if every result is right.
#include <cstdio>
#include <string>

#include "greeter.procxy.h"

namespace {
int failures = 0;
void expect(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "consumer: FAILED: %s\n", what);
    ++failures;
  }
}
}  // namespace

int main(int argc, char** argv) {
  procxy::serve_if_child(argc, argv);

  auto greeter = procxy::spawn<consumer::Greeter>();
  expect(greeter->greet("x") == "hello, x", "greet() in a child of this program");
  expect(greeter->greet_all({"a", "b", "a"}) == std::vector<std::string>{"hello, a", "hello, b", "hello, a"},
         "greet_all()");
  auto counts = greeter->counts();
  expect(counts.size() == 3 && counts["a"] == 2 && counts["x"] == 1, "counts()");

  procxy::Options agent;
  agent.executable = "greeter_agent";  // next to this program (procxy_add_agent FOR)
  auto remote = procxy::spawn<consumer::Greeter>(agent, std::string("hi"));
  expect(remote.async()->greet("y").get() == "hi, y", "greet() in the agent");

  std::printf("consumer: %s\n", failures == 0 ? "ok" : "failed");
  return failures == 0 ? 0 : 1;
}
