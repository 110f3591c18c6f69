// The calculator example: a Calculator object living in a child process,
// used as if it were local.

#include <unistd.h>

#include <cstdio>
#include <stdexcept>

#include "calculator.procxy.h"

int main(int argc, char** argv) {
  procxy::serve_if_child(argc, argv);  // in the child, serves here and exits

  auto calc = procxy::spawn<demo::Calculator>(10);
  std::printf("parent %d, child %d\n", static_cast<int>(getpid()), static_cast<int>(calc.pid()));
  std::printf("add(2, 3) = %d\n", calc->add(2, 3));
  std::printf("describe() = %s\n", calc->describe().c_str());

  std::future<int> square = calc.async()->slow_square(7);
  std::printf("slow_square(7) = %d\n", square.get());

  demo::Point c = calc->centroid({{0, 0}, {4, 0}, {4, 2}, {0, 2}});
  std::printf("centroid = (%g, %g)\n", c.x, c.y);

  try {
    calc->divide(1, 0);
  } catch (const std::domain_error& e) {
    std::printf("divide(1, 0) threw std::domain_error: %s\n", e.what());
  }

  // Events: the child calls progress(); the parent's handler runs for each,
  // and all of them before work() returns here.
  auto subscription =
      calc.on(&demo::Calculator::progress, [](int percent) { std::printf("progress %d%%\n", percent); });
  calc->work(4);
  subscription.off();

  calc.terminate();
  std::printf("child %s\n", calc.wait().to_string().c_str());
}
