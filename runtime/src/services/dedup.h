#pragma once

// Creation dedup (Options::dedupe): spawns with the same key share one
// child. Callers that arrive while it starts wait for that start; later ones
// get the live instance while any handle to it exists. The registry keeps no
// child alive: an instance leaves it with its last handle, and a failed start
// is reported to every waiting caller and forgotten.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "procxy/detail/generated_support.h"

namespace procxy::detail {

// Everything that makes two children interchangeable: the class, its
// interface, the constructor form and its serialized arguments, and every
// option that shapes the child or the calls made through the shared proxy.
std::string spawn_key(const Options& options, std::string_view class_name, std::uint64_t interface_hash,
                      const Construction& construction);

// The live instance under `key`, or the result of a start in progress, or
// else the connection `start` returns (its exception reaches every caller
// waiting for it). `what` names the class in PROCXY_DEBUG=dedup lines.
std::shared_ptr<Connection> deduplicated(const std::string& key, std::string_view what,
                                         const std::function<std::shared_ptr<Connection>()>& start);

}  // namespace procxy::detail
