// serve_if_child() lives alone in this file so that the linker pulls it (and
// the marker below) into a program only when the program calls it. The
// start-up check in process/spawn.cpp tests the marker to tell a child that
// will reach serve_if_child() from one that would run main() again.

#include <cstdlib>
#include <string>

#include "dispatch/server.h"
#include "process/spawn.h"
#include "procxy/procxy.h"

extern "C" const char procxy_serve_if_child_linked = 1;

namespace procxy {

void serve_if_child(int, char**) {
  const char* fd = std::getenv(detail::kChildFdVariable);
  if (!fd) return;
  int channel = std::atoi(fd);
  // Not inherited by anything the object itself starts.
  ::unsetenv(detail::kChildFdVariable);
  detail::serve(channel);
}

}  // namespace procxy
