#pragma once

// The child's side: construct the object the parent selected, then serve its
// calls. A private child serves one parent on its channel; a shared child
// (attach()) serves every client that connects to its socket.

// Included by throw_hook.cpp, which must not see a declaration of
// __cxa_throw: keep this header free of includes (dispatch/clients.h has the
// rest).

namespace procxy::detail {

// Reads the class selection and the constructor call from `fd`, constructs
// the object, then serves calls until the parent (for a shared child: the
// last client, after Options::idle_exit) lets go. Exits the process; never
// returns.
[[noreturn]] void serve(int fd);

// True in a process that serves an object (for messages: "child <pid>").
bool serving();

}  // namespace procxy::detail
