#include "widget.procxy.h"

void use_widget(const procxy::Proxy<demo::Widget>& w) {
  w.on(&demo::Widget::reset, [] {});
}
