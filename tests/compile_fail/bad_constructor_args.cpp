#include "widget.procxy.h"

int use_widget() { return procxy::spawn<demo::Widget>("big", "red").alive(); }
