#pragma once

#include <procxy/annotate.h>

#include <string>

namespace shapes {

// Overloaded constructors and methods, default arguments, unnamed parameters.
class PROCXY_REMOTE Canvas {
 public:
  Canvas();
  Canvas(int width, int height = 480);
  explicit Canvas(const std::string& preset);

  void draw(int x, int y);
  void draw(double x, double y, double scale = 1.0);
  int area(int, int) const;
  std::string name(const std::string& prefix = "canvas", bool upper = false) const;
};

}  // namespace shapes
