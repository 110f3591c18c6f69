#pragma once

#include <procxy/annotate.h>

#include <string>
#include <vector>

namespace demo {

struct Point {
  double x;
  double y;
};

enum class Mode { fast, exact };

// A class that procxy runs in a child process: procxy-gen reads this header
// and writes Proxy<demo::Calculator> for the parent and a stub for the child.
class PROCXY_REMOTE Calculator {
 public:
  explicit Calculator(int base = 0);

  int add(int a, int b);
  PROCXY_QUERY std::string describe() const;
  PROCXY_CACHE(500) int slow_square(int x) const;
  Point centroid(const std::vector<Point>& points);
  double divide(double a, double b);  // throws std::domain_error for b == 0
  void set_mode(Mode mode);
  void work(int steps);                     // calls progress(...) while it runs
  PROCXY_EVENT void progress(int percent);  // declared only: procxy-gen writes its body
  PROCXY_HIDDEN void local_only();

 private:
  int base_;
  Mode mode_ = Mode::fast;
};

}  // namespace demo
