#pragma once

// Two channels on the ends of a real socket pair.

#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <memory>

#include "transport/channel.h"

namespace procxy::detail {

struct Pair {
  std::unique_ptr<Channel> a;
  std::unique_ptr<Channel> b;
};

inline Pair make_pair() {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  return {std::make_unique<Channel>(fds[0]), std::make_unique<Channel>(fds[1])};
}

}  // namespace procxy::detail
