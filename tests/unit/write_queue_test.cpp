// Writes that never wait for the peer (transport/write_queue.h), through a
// Channel on a real socket pair: what the socket does not take waits in
// order, flush() sends it on, too much waiting drops the peer; and the
// payload limit of a reader.

#include <capnp/message.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "channel_pair.h"
#include "procxy/errors.h"
#include "transport/channel.h"
#include "wire/protocol.capnp.h"

using namespace procxy::detail;

namespace {

// A Select frame whose class name is `bytes` long, id `id`.
bool write_frame(Channel& channel, std::uint64_t id, std::size_t bytes) {
  capnp::MallocMessageBuilder message;
  message.initRoot<procxy::wire::Select>().setClassName(std::string(bytes, 'x'));
  return channel.write(FrameKind::kSelect, 0, id, message.getSegmentsForOutput());
}

Channel::ReadStatus read_one(Channel& channel, Frame& frame) {
  return channel.read(frame, Channel::Clock::now() + std::chrono::seconds(10), -1, "the test");
}

}  // namespace

TEST_CASE("writes that the socket cannot take wait in order and go out on flush", "[write queue]") {
  Pair p = make_pair();
  int queued = 0;
  std::size_t overflowed = 0;
  p.a->never_wait_on_writes(
      8 * 1024 * 1024, [&] { ++queued; }, [&](std::size_t bytes) { overflowed = bytes; });
  // Nobody reads: the socket fills, and the writes return at once anyway.
  constexpr int kFrames = 200;
  for (int i = 1; i <= kFrames; ++i) REQUIRE(write_frame(*p.a, i, 16 * 1024));
  CHECK(p.a->writes_waiting());
  CHECK(queued == 1);  // once, as bytes started to wait
  CHECK(overflowed == 0);

  // Read everything, flushing as room appears: all frames, in order, whole.
  for (int i = 1; i <= kFrames; ++i) {
    Frame frame;
    REQUIRE(p.a->flush());
    REQUIRE(read_one(*p.b, frame) == Channel::ReadStatus::kFrame);
    CHECK(frame.header.id == static_cast<std::uint64_t>(i));
    CHECK(frame.header.size > 16 * 1024);
  }
  CHECK_FALSE(p.a->writes_waiting());
}

TEST_CASE("a peer that lets more than the limit wait is dropped once", "[write queue]") {
  Pair p = make_pair();
  int dropped = 0;
  std::size_t waiting = 0;
  p.a->never_wait_on_writes(
      1024 * 1024, [] {},
      [&](std::size_t bytes) {
        ++dropped;
        waiting = bytes;
      });
  int accepted = 0;
  while (write_frame(*p.a, 1, 16 * 1024)) ++accepted;
  CHECK(accepted > 1024 * 1024 / (17 * 1024));  // the limit, on top of what the socket took
  CHECK(dropped == 1);
  CHECK(waiting > 1024 * 1024);
  CHECK_FALSE(write_frame(*p.a, 2, 16));
  CHECK(dropped == 1);
  // The reader gets what the socket took, then sees the connection closed.
  Frame frame;
  Channel::ReadStatus status;
  while ((status = read_one(*p.b, frame)) == Channel::ReadStatus::kFrame) {
  }
  CHECK(status == Channel::ReadStatus::kClosed);
}

TEST_CASE("a frame above the reader's payload limit is a protocol error before it is read", "[write queue]") {
  Pair p = make_pair();
  p.b->limit_payload(64 * 1024);
  REQUIRE(write_frame(*p.a, 1, 1000));
  Frame frame;
  CHECK(read_one(*p.b, frame) == Channel::ReadStatus::kFrame);
  REQUIRE(write_frame(*p.a, 2, 100 * 1024));  // shared memory carries it: its descriptor is checked too
  CHECK_THROWS_MATCHES(read_one(*p.b, frame), procxy::ProtocolError,
                       Catch::Matchers::Predicate<procxy::ProtocolError>([](const procxy::ProtocolError& e) {
                         std::string what = e.what();
                         return what.find("procxy: the test: received a frame of ") == 0 &&
                                what.find("where at most 65536 may come") != std::string::npos;
                       }));
}
