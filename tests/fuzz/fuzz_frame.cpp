// libFuzzer target: the frame decoder (Channel::read) and the message
// validation after it, fed arbitrary bytes through a real socket.

#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

#include "procxy/errors.h"
#include "transport/channel.h"
#include "wire/message.h"

using procxy::detail::Channel;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return 0;
  int buffer = 4 << 20;  // the whole input fits: no writer thread needed
  ::setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  std::size_t sent = 0;
  while (sent < size) {
    ssize_t n = ::send(fds[1], data + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  ::close(fds[1]);
  Channel channel(fds[0]);
  procxy::detail::Frame frame;
  try {
    while (channel.read(frame, Channel::Clock::now() + std::chrono::seconds(1), -1, "fuzz") ==
           Channel::ReadStatus::kFrame) {
      procxy::detail::validate_message(frame, "fuzz");
    }
  } catch (const procxy::ProtocolError&) {
    // The expected way for garbage to end.
  }
  return 0;
}
