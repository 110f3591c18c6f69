#pragma once

// Options::concurrency == 1: the thread that reads the channel runs each
// call itself, so a call costs no thread hop.

namespace procxy::detail {

class Peer;
struct ClassEntry;

// Serves the parent's calls until it sends Shutdown or goes away.
void serve_inline(Peer& parent, const ClassEntry& entry, void* object);

}  // namespace procxy::detail
