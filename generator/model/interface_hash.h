#pragma once

#include <cstdint>
#include <string>

#include "model/model.h"

namespace procxy::model {

// A stable 64-bit fingerprint of everything about an interface that the wire
// depends on: its constructors, methods (kinds, names, ordinals, types) and the
// aggregates of the module. Parent and child compare it in the handshake.
std::uint64_t interface_hash(const Module& module, const Interface& interface);

// FNV-1a of `text`: tiny and stable across platforms and releases. Used for
// fingerprints and schema ids (consistency checks, not a security boundary).
std::uint64_t fnv1a(const std::string& text);

}  // namespace procxy::model
