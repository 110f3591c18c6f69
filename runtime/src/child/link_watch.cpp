#include "child/link_watch.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <system_error>
#include <thread>

#include "child/exit_codes.h"
#include "procxy/errors.h"
#include "side.h"
#include "transport/heartbeat.h"

namespace procxy::detail {
namespace {

// After the link closed, the serving thread has this long to end by itself
// (it reads the end of the stream, destroys the object and exits); a call
// that is still running then has nobody to return to.
constexpr auto kGraceAfterClose = std::chrono::seconds(1);

[[noreturn]] void leave(const std::string& why) {
  std::fprintf(stderr, "procxy: %s: %s; the child exits\n", side_name(), why.c_str());
  std::fflush(nullptr);
  _exit(kExitLinkLost);
}

// Whether bytes the parent sent wait unread: then the serving thread is busy
// in a call, and the silence of last_heard() says nothing.
bool bytes_waiting(int fd) {
  int pending = 0;
  return ::ioctl(fd, FIONREAD, &pending) == 0 && pending > 0;
}

void watch(Channel& channel, std::chrono::milliseconds heartbeat) {
  using Clock = Channel::Clock;
  const auto limit = silence_limit(heartbeat);
  Clock::time_point next_beat = Clock::now() + heartbeat;
  for (;;) {
    int timeout = -1;
    if (heartbeat.count() > 0) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(next_beat - Clock::now()).count();
      timeout = left < 0 ? 0 : static_cast<int>(left);
    }
    // No POLLIN: what arrives is the serving thread's to read. A pipe
    // reports POLLHUP when its writer is gone, a socket POLLRDHUP.
    pollfd link{channel.fd(), POLLRDHUP, 0};
    int n = ::poll(&link, 1, timeout);
    if (n > 0 && (link.revents & (POLLHUP | POLLRDHUP | POLLERR))) {
      std::this_thread::sleep_for(kGraceAfterClose);
      leave("the link to the parent closed (the parent, its launcher or the connection is gone)");
    }
    if (heartbeat.count() == 0 || Clock::now() < next_beat) continue;
    channel.beat();
    next_beat = Clock::now() + heartbeat;
    auto silent = Clock::now() - channel.last_heard();
    if (silent > limit && !bytes_waiting(channel.fd())) {
      leave("nothing came from the parent for " +
            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(silent).count()) + " ms (" +
            std::to_string(kHeartbeatsMissed) + " heartbeats of Options::heartbeat = " +
            std::to_string(heartbeat.count()) + " ms): the link to the parent is lost");
    }
  }
}

}  // namespace

void watch_link(Channel& channel, std::chrono::milliseconds heartbeat) {
  try {
    std::thread(watch, std::ref(channel), heartbeat).detach();
  } catch (const std::system_error& e) {
    throw Error(std::string("procxy: ") + side_name() + ": cannot start the thread that watches the link (" + e.what() +
                ")");
  }
}

}  // namespace procxy::detail
