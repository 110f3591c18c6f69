#pragma once

namespace procxy::detail {

// The child's side of a connection: reads the class selection and the
// constructor call from `fd`, constructs the object, then runs calls one at a
// time in arrival order until the parent sends Shutdown or goes away. Exits
// the process; never returns.
[[noreturn]] void serve(int fd);

// True in a process that serves an object (for messages: "child <pid>").
bool serving();

}  // namespace procxy::detail
