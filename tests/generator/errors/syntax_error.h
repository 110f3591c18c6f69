#pragma once

#include <procxy/annotate.h>

class PROCXY_REMOTE Broken {
 public:
  unknown_type get();
};
