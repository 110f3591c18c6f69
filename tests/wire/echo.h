#pragma once

#include <procxy/annotate.h>

#include <vector>

namespace wire_test {

struct Point {
  int x;
  int y;
};

// The class the conformance tests start a real child for. Method forms:
// add is 0, points is 1; the event moved is 0 of the events.
class PROCXY_REMOTE Echo {
 public:
  int add(int a, int b) { return a + b; }
  std::vector<Point> points(const std::vector<Point>& in) { return in; }
  PROCXY_EVENT void moved(const std::vector<Point>& path);
};

}  // namespace wire_test
