#pragma once

// Which side of procxy this process is, and its name in every message the
// runtime writes: "parent", "child 4242" or "shared child 4242". A process is
// a parent until it starts serving an object: child/server.cpp says so before
// any other thread runs, once it reads the parent's selection (and again,
// for a shared child, once it knows it is one), before the object exists.
//
// Included by child/throw_hook.cpp, which must not see a declaration of
// __cxa_throw: this header includes nothing.

namespace procxy::detail {

enum class Side { kParent, kChild, kSharedChild };

Side side();
void become(Side side);

// True in a process that serves an object, private or shared.
bool in_child();

// "parent", "child <pid>" or "shared child <pid>". The parent's side of a
// connection names itself "parent" even in a child that spawned children of
// its own: there it is the parent.
const char* side_name();

}  // namespace procxy::detail
