// Frames on a real socket pair: round trips, batching, large frames,
// timeouts, wake-ups, a vanished peer and invalid headers.

#include "transport/channel.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstring>
#include <thread>
#include <vector>

#include "channel_pair.h"
#include "procxy/errors.h"
#include "wire/protocol.capnp.h"

using namespace procxy::detail;

namespace {

Channel::Clock::time_point in(std::chrono::milliseconds ms) { return Channel::Clock::now() + ms; }

std::string class_name_of(Frame& frame) {
  capnp::FlatArrayMessageReader reader(frame.payload.asPtr());
  return reader.getRoot<procxy::wire::Select>().getClassName();
}

void write_select(Channel& channel, std::uint64_t id, const std::string& name) {
  capnp::MallocMessageBuilder message;
  message.initRoot<procxy::wire::Select>().setClassName(name);
  REQUIRE(channel.write(FrameKind::kSelect, 7, id, message.getSegmentsForOutput()));
}

}  // namespace

TEST_CASE("a frame arrives whole with its header", "[channel]") {
  Pair p = make_pair();
  write_select(*p.a, 42, "demo::Calculator");
  Frame frame;
  REQUIRE(p.b->read(frame, in(std::chrono::seconds(5)), -1, "test") == Channel::ReadStatus::kFrame);
  CHECK(frame.header.kind == FrameKind::kSelect);
  CHECK(frame.header.ordinal == 7);
  CHECK(frame.header.id == 42);
  CHECK(class_name_of(frame) == "demo::Calculator");
}

TEST_CASE("an empty payload and many frames in one read", "[channel]") {
  Pair p = make_pair();
  REQUIRE(p.a->write(FrameKind::kReady, 0, 1));
  for (std::uint64_t id = 2; id < 200; ++id) write_select(*p.a, id, "c" + std::to_string(id));
  Frame frame;
  REQUIRE(p.b->read(frame, in(std::chrono::seconds(5)), -1, "test") == Channel::ReadStatus::kFrame);
  CHECK(frame.header.kind == FrameKind::kReady);
  CHECK(frame.payload.size() == 0);
  for (std::uint64_t id = 2; id < 200; ++id) {
    REQUIRE(p.b->read(frame, in(std::chrono::seconds(5)), -1, "test") == Channel::ReadStatus::kFrame);
    CHECK(frame.header.id == id);
    CHECK(class_name_of(frame) == "c" + std::to_string(id));
  }
}

TEST_CASE("frames larger than the read buffer and with many segments", "[channel]") {
  Pair p = make_pair();
  std::string big(3 * 1024 * 1024 + 5, 'q');
  std::thread writer([&] {
    // A small first segment forces Cap'n Proto to use several segments.
    capnp::MallocMessageBuilder message(16, capnp::AllocationStrategy::FIXED_SIZE);
    message.initRoot<procxy::wire::Select>().setClassName(big);
    CHECK(message.getSegmentsForOutput().size() > 1);
    p.a->write(FrameKind::kSelect, 0, 9, message.getSegmentsForOutput());
  });
  Frame frame;
  REQUIRE(p.b->read(frame, in(std::chrono::seconds(10)), -1, "test") == Channel::ReadStatus::kFrame);
  writer.join();
  CHECK(class_name_of(frame) == big);
}

TEST_CASE("read returns kTimeout, kWoken and kClosed", "[channel]") {
  Pair p = make_pair();
  Frame frame;
  CHECK(p.b->read(frame, in(std::chrono::milliseconds(20)), -1, "test") == Channel::ReadStatus::kTimeout);

  int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  std::uint64_t one = 1;
  REQUIRE(::write(wake, &one, sizeof one) == sizeof one);
  CHECK(p.b->read(frame, in(std::chrono::seconds(5)), wake, "test") == Channel::ReadStatus::kWoken);
  ::close(wake);

  p.a.reset();  // the peer goes away
  CHECK(p.b->read(frame, in(std::chrono::seconds(5)), -1, "test") == Channel::ReadStatus::kClosed);
  CHECK_FALSE(p.b->write(FrameKind::kReady, 0, 0));  // no SIGPIPE, just false
}

// Without a wake fd the wait is a recv() with the deadline as the socket's
// receive timeout: each read must keep its own deadline, however the timeout
// was set for the read before, and a frame must still end the wait.
TEST_CASE("reads without a wake fd keep each one's deadline", "[channel]") {
  Pair p = make_pair();
  Frame frame;
  using std::chrono::milliseconds;
  for (milliseconds wait : {milliseconds(300), milliseconds(30), milliseconds(300), milliseconds(1)}) {
    auto start = Channel::Clock::now();
    CHECK(p.b->read(frame, Channel::Clock::now() + wait, -1, "test") == Channel::ReadStatus::kTimeout);
    auto took = Channel::Clock::now() - start;
    CHECK(took >= wait);
    CHECK(took < wait + milliseconds(250));  // generous: only a wait for an earlier deadline is this late
  }
  // After those, a wait with no deadline lasts until the frame comes.
  bool written = false;
  std::thread writer([&] {  // no Catch assertions here: they are not thread-safe
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    capnp::MallocMessageBuilder message;
    message.initRoot<procxy::wire::Select>().setClassName("late");
    written = p.a->write(FrameKind::kSelect, 0, 9, message.getSegmentsForOutput());
  });
  auto status = p.b->read(frame, Channel::Clock::time_point::max(), -1, "test");
  writer.join();
  CHECK(written);
  REQUIRE(status == Channel::ReadStatus::kFrame);
  CHECK(class_name_of(frame) == "late");
}

// A wait without a wake fd may poll the socket before it blocks
// (transport/adaptive_poll.h). Replies that come at once, within the poll
// window, and long after it, in runs that make the polling rest and probe,
// must each end their wait, in order; a deadline inside the window still
// times out.
TEST_CASE("replies within the poll window and long after it all arrive", "[channel]") {
  Pair p = make_pair();
  Frame reply;
  auto start = Channel::Clock::now();  // a fresh channel polls its first wait
  CHECK(p.b->read(reply, start + std::chrono::microseconds(5), -1, "test") == Channel::ReadStatus::kTimeout);
  CHECK(Channel::Clock::now() - start < std::chrono::seconds(1));  // generous: only catches a hang

  constexpr int kRounds = 3 * procxy::detail::AdaptivePoll::kProbeEvery;
  std::thread responder([&] {  // no Catch assertions here: they are not thread-safe
    Frame request;
    for (int i = 0; i < kRounds; ++i) {
      if (p.a->read(request, Channel::Clock::time_point::max(), -1, "test") != Channel::ReadStatus::kFrame) return;
      // Runs of quick replies and of late ones (well past the window).
      if ((i / 8) % 2 == 1) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      if (!p.a->write(FrameKind::kResult, 0, request.header.id)) return;
    }
  });
  int answered = 0;
  for (int i = 0; i < kRounds; ++i) {
    REQUIRE(p.b->write(FrameKind::kCall, 0, 1000 + i));
    REQUIRE(p.b->read(reply, in(std::chrono::seconds(10)), -1, "test") == Channel::ReadStatus::kFrame);
    CHECK(reply.header.id == static_cast<std::uint64_t>(1000 + i));
    ++answered;
  }
  responder.join();
  CHECK(answered == kRounds);
}

TEST_CASE("a peer that dies mid-frame is seen as closed", "[channel]") {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  Channel reader(fds[1]);
  FrameHeader header{800, FrameKind::kResult, 0, 1};
  REQUIRE(::write(fds[0], &header, sizeof header) == sizeof header);
  REQUIRE(::write(fds[0], "12345678", 8) == 8);
  ::close(fds[0]);
  Frame frame;
  CHECK(reader.read(frame, in(std::chrono::seconds(5)), -1, "test") == Channel::ReadStatus::kClosed);
}

TEST_CASE("a large frame whose bytes stop coming waits no longer than the read", "[channel]") {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  Channel reader(fds[1]);
  // 3 MiB: more than the buffer, and than the payload's first two sizes.
  constexpr std::size_t kSize = 3 << 20;
  constexpr std::size_t kFirst = 1 << 20;
  std::vector<unsigned char> payload(kSize);
  for (std::size_t i = 0; i < kSize; ++i) payload[i] = static_cast<unsigned char>(i * 7 % 251);
  FrameHeader header{static_cast<std::uint32_t>(kSize), FrameKind::kResult, 3, 42};
  auto write_all = [fd = fds[0]](const void* data, std::size_t size) {
    auto* at = static_cast<const char*>(data);
    while (size > 0) {
      ssize_t n = ::write(fd, at, size);
      if (n <= 0) return false;
      at += n;
      size -= static_cast<std::size_t>(n);
    }
    return true;
  };
  // The socket holds less than kFirst: the first part is written while the
  // reader reads it, in reads that each end at their deadline.
  std::atomic<bool> writing{true};
  bool first_written = false;
  std::thread writer([&] {
    first_written = write_all(&header, sizeof header) && write_all(payload.data(), kFirst);
    writing = false;
  });
  Frame frame;
  while (writing) {
    REQUIRE(reader.read(frame, in(std::chrono::milliseconds(50)), -1, "test") == Channel::ReadStatus::kTimeout);
  }
  CHECK(reader.read(frame, in(std::chrono::milliseconds(100)), -1, "test") == Channel::ReadStatus::kTimeout);
  writer.join();
  REQUIRE(first_written);

  int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  std::uint64_t one = 1;
  REQUIRE(::write(wake, &one, sizeof one) == sizeof one);
  CHECK(reader.read(frame, in(std::chrono::seconds(5)), wake, "test") == Channel::ReadStatus::kWoken);
  ::close(wake);

  bool rest_written = false;
  writer = std::thread([&] {
    rest_written = write_all(payload.data() + kFirst, kSize - kFirst);
    FrameHeader next{0, FrameKind::kResult, 0, 43};
    rest_written = rest_written && write_all(&next, sizeof next);
  });
  REQUIRE(reader.read(frame, in(std::chrono::seconds(10)), -1, "test") == Channel::ReadStatus::kFrame);
  CHECK(frame.header.id == 42);
  CHECK(frame.header.ordinal == 3);
  REQUIRE(frame.payload.size() * sizeof(capnp::word) == kSize);
  CHECK(std::memcmp(frame.payload.begin(), payload.data(), kSize) == 0);
  REQUIRE(reader.read(frame, in(std::chrono::seconds(10)), -1, "test") == Channel::ReadStatus::kFrame);
  CHECK(frame.header.id == 43);
  writer.join();
  CHECK(rest_written);
  ::close(fds[0]);
}

TEST_CASE("a header claiming the largest frame, then nothing, is seen as closed", "[channel]") {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  Channel reader(fds[1]);
  FrameHeader header{kMaxFrameSize, FrameKind::kResult, 0, 1};
  REQUIRE(::write(fds[0], &header, sizeof header) == sizeof header);
  REQUIRE(::write(fds[0], "12345678", 8) == 8);
  ::close(fds[0]);
  Frame frame;
  CHECK(reader.read(frame, in(std::chrono::seconds(5)), -1, "test") == Channel::ReadStatus::kClosed);
}

TEST_CASE("invalid headers are protocol errors naming the side", "[channel]") {
  struct Bad {
    const char* what;
    FrameHeader header;
  };
  for (const Bad& bad :
       {Bad{"unknown kind", {8, static_cast<FrameKind>(99), 0, 1}},
        Bad{"kind zero", {8, static_cast<FrameKind>(0), 0, 1}}, Bad{"unaligned size", {13, FrameKind::kResult, 0, 1}},
        Bad{"oversized", {kMaxFrameSize + 8, FrameKind::kResult, 0, 1}}}) {
    DYNAMIC_SECTION(bad.what) {
      int fds[2];
      REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
      Channel reader(fds[1]);
      REQUIRE(::write(fds[0], &bad.header, sizeof bad.header) == sizeof bad.header);
      Frame frame;
      CHECK_THROWS_AS(reader.read(frame, in(std::chrono::seconds(5)), -1, "parent"), procxy::ProtocolError);
      CHECK_THROWS_WITH(reader.read(frame, in(std::chrono::seconds(5)), -1, "parent"),
                        Catch::Contains("procxy: parent:"));
      ::close(fds[0]);
    }
  }
}
