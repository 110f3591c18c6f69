#pragma once

// Unix socket helpers: the address of a socket path, who is on the other
// end, and a file descriptor sent along with bytes.

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

// Room for the control message that carries one file descriptor.
struct FdControl {
  alignas(cmsghdr) char bytes[CMSG_SPACE(sizeof(int))];
};

// Makes `message` carry `fd` (SCM_RIGHTS) when it is sent; `control` must
// live until then.
void attach_fd(msghdr& message, FdControl& control, int fd);

}  // namespace procxy::detail
