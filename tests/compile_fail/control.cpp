// The fixture compiles when used rightly, so that each case fails for its own
// mistake only.
#include "widget.procxy.h"

int use_widget() {
  auto a = procxy::spawn<demo::Widget>(std::string("w"), 3);
  auto s = a.on(&demo::Widget::resized, [](int) {});
  return a->size();
}
