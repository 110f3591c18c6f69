#pragma once

#include <procxy/annotate.h>

#include <string>

class PROCXY_REMOTE Greeter {
 public:
  std::string greet(const std::string& name);
};
