#pragma once

// SPEC §9: what spawn() and attach() are given is checked in the parent,
// before anything starts, so that a mistake is reported where it was made
// and not as a child's odd failure.

#include "procxy/options.h"

namespace procxy::detail {

// `options`, checked and with a relative Options::executable made absolute
// (against the directory of this program's executable). Throws
// std::invalid_argument naming the field and the value. `function` names the
// call in the message ("spawn", "attach").
Options checked(const Options& options, const char* function);
// For pool(): PoolOptions::child as above, and the pool's own fields.
PoolOptions checked(const PoolOptions& options);

}  // namespace procxy::detail
