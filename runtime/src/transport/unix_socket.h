#pragma once

// What both ends of a shared child's socket need: the address of a socket
// path, and who is on the other end.

#include <sys/socket.h>
#include <sys/un.h>

#include <optional>
#include <string>

namespace procxy::detail {

// The address of the unix socket at `path`; nothing when the path is too
// long for sockaddr_un.
std::optional<sockaddr_un> unix_address(const std::string& path);

// The process, user and group at the other end of the connected unix socket
// `fd` (SO_PEERCRED: as they were when it connected); nothing on failure
// (errno says why).
std::optional<ucred> peer_credentials(int fd);

}  // namespace procxy::detail
