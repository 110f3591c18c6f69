#pragma once

// The view of one PROCXY_REMOTE class: its constructors, method forms and
// events, whose schema structs it adds to `schema`.

#include "emit/schema.h"
#include "model/model.h"

namespace procxy::emit {

Context class_view(const model::Module& module, const model::Interface& interface, Schema& schema);

}  // namespace procxy::emit
