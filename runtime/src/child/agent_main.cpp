// The main() of an agent executable made by procxy_add_agent(): a program
// that does nothing but serve the classes linked into it.

#include <procxy/procxy.h>

#include <cstdio>

int main(int argc, char** argv) {
  procxy::serve_if_child(argc, argv);
  std::fprintf(stderr,
               "%s: this is a procxy agent; it serves objects for procxy::spawn() "
               "(Options::executable) and is not meant to be run directly\n",
               argc > 0 ? argv[0] : "agent");
  return 2;
}
