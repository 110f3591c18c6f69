#include "greeter.h"

std::string Greeter::greet(const std::string& name) { return "hello, " + name; }
