#include "widget.procxy.h"

int use_plain() { return procxy::spawn<demo::Plain>(1).alive(); }
