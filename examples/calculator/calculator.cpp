#include "calculator.h"

#include <unistd.h>

#include <stdexcept>

namespace demo {

Calculator::Calculator(int base) : base_(base) {}

int Calculator::add(int a, int b) { return base_ + a + b; }

std::string Calculator::describe() const {
  return "Calculator(base=" + std::to_string(base_) + ") in process " + std::to_string(getpid());
}

int Calculator::slow_square(int x) const { return x * x; }

Point Calculator::centroid(const std::vector<Point>& points) {
  Point sum{0, 0};
  for (const Point& p : points) {
    sum.x += p.x;
    sum.y += p.y;
  }
  if (points.empty()) return sum;
  return {sum.x / static_cast<double>(points.size()), sum.y / static_cast<double>(points.size())};
}

double Calculator::divide(double a, double b) {
  if (b == 0) throw std::domain_error("division by zero");
  return a / b;
}

void Calculator::set_mode(Mode mode) { mode_ = mode; }

void Calculator::work(int steps) {
  for (int step = 1; step <= steps; ++step) progress(100 * step / steps);
}

void Calculator::local_only() {}

}  // namespace demo
