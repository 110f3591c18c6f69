// Unix socket addresses and peer credentials, on real sockets.

#include "transport/unix_socket.h"

#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

using namespace procxy::detail;

TEST_CASE("unix_address fits a path into sockaddr_un, or refuses it", "[unix_socket]") {
  std::string longest(sizeof(sockaddr_un::sun_path) - 1, 'x');
  auto address = unix_address(longest);
  REQUIRE(address);
  CHECK(address->sun_family == AF_UNIX);
  CHECK(std::string(address->sun_path) == longest);
  CHECK_FALSE(unix_address(longest + "x"));  // no room for the terminating zero
}

TEST_CASE("a bound path is reached through its address, and names the peer", "[unix_socket]") {
  char dir[] = "/tmp/procxy-unix-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  std::string path = std::string(dir) + "/s.sock";
  auto address = unix_address(path);
  REQUIRE(address);
  int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(::bind(listener, reinterpret_cast<const sockaddr*>(&*address), sizeof *address) == 0);
  REQUIRE(::listen(listener, 1) == 0);
  int client = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(::connect(client, reinterpret_cast<const sockaddr*>(&*address), sizeof *address) == 0);
  int server = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  REQUIRE(server >= 0);

  for (int end : {client, server}) {
    auto peer = peer_credentials(end);
    REQUIRE(peer);
    CHECK(peer->pid == ::getpid());
    CHECK(peer->uid == ::geteuid());
  }
  int pipe_ends[2];
  REQUIRE(::pipe(pipe_ends) == 0);
  CHECK_FALSE(peer_credentials(pipe_ends[0]));  // not a socket
  for (int fd : {client, server, listener, pipe_ends[0], pipe_ends[1]}) ::close(fd);
  ::unlink(path.c_str());
  ::rmdir(dir);
}
