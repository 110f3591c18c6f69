#pragma once

#include <string>

#include "model/model.h"

namespace procxy::model {

// A deterministic text form of the model (procxy-gen --dump-model). It is also
// what the interface hash is computed from, so it holds every detail that
// matters on the wire and nothing that does not (no source locations).
std::string dump(const Module& module);
std::string dump(const Interface& interface);
std::string dump(const Type& type);

}  // namespace procxy::model
