// A launcher's channel (Channel::Streams) on two real pipes, as a child
// started through ssh has them: frames both ways, a large frame inline, a
// vanished reader without SIGPIPE, heartbeats, and no shared memory.

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "procxy/errors.h"
#include "transport/channel.h"

using namespace procxy::detail;

namespace {

Channel::Clock::time_point in(std::chrono::milliseconds ms) { return Channel::Clock::now() + ms; }

// Two channels joined by two pipes: what `a` writes `b` reads, and back.
struct PipePair {
  std::unique_ptr<Channel> a;
  std::unique_ptr<Channel> b;
};

PipePair make_pipe_pair() {
  int a_to_b[2], b_to_a[2];
  REQUIRE(::pipe2(a_to_b, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(b_to_a, O_CLOEXEC) == 0);
  return {std::make_unique<Channel>(Channel::Streams{b_to_a[0], a_to_b[1]}),
          std::make_unique<Channel>(Channel::Streams{a_to_b[0], b_to_a[1]})};
}

// One segment of `words` words, each its index.
std::vector<capnp::word> segment_of(std::size_t words) {
  std::vector<capnp::word> segment(words);
  for (std::size_t i = 0; i < words; ++i) std::memcpy(static_cast<void*>(&segment[i]), &i, sizeof i);
  return segment;
}

}  // namespace

TEST_CASE("a stream channel carries frames both ways over pipes", "[channel][streams]") {
  PipePair p = make_pipe_pair();
  REQUIRE(p.a->write(FrameKind::kCall, 3, 41));
  Frame frame;
  REQUIRE(p.b->read(frame, in(std::chrono::seconds(5)), -1, "test") == Channel::ReadStatus::kFrame);
  CHECK(frame.header.kind == FrameKind::kCall);
  CHECK(frame.header.ordinal == 3);
  CHECK(frame.header.id == 41);
  REQUIRE(p.b->write(FrameKind::kResult, 0, 41));
  REQUIRE(p.a->read(frame, in(std::chrono::seconds(5)), -1, "test") == Channel::ReadStatus::kFrame);
  CHECK(frame.header.id == 41);
  CHECK(p.a->read(frame, in(std::chrono::milliseconds(20)), -1, "test") == Channel::ReadStatus::kTimeout);
}

TEST_CASE("a stream channel sends a large payload inline, never through shared memory", "[channel][streams]") {
  PipePair p = make_pipe_pair();
  std::vector<capnp::word> words = segment_of(2 << 20);  // 16 MiB, far above the shared-memory threshold
  kj::ArrayPtr<const capnp::word> segment(words.data(), words.size());
  kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>> segments(&segment, 1);
  bool written = false;  // checked here: Catch's assertions are for one thread
  std::thread writer([&] { written = p.a->write(FrameKind::kCall, 0, 1, segments); });
  Frame frame;
  REQUIRE(p.b->read(frame, in(std::chrono::seconds(30)), -1, "test") == Channel::ReadStatus::kFrame);
  writer.join();
  CHECK(written);
  REQUIRE(frame.payload.size() == words.size() + 1);  // the segment table, then the segment
  CHECK(std::memcmp(frame.payload.begin() + 1, words.data(), words.size() * sizeof(capnp::word)) == 0);
}

TEST_CASE("a stream channel whose reader is gone fails writes without SIGPIPE", "[channel][streams]") {
  PipePair p = make_pipe_pair();
  p.b.reset();
  struct sigaction before {};
  ::sigaction(SIGPIPE, nullptr, &before);
  REQUIRE(before.sa_handler == SIG_DFL);  // the default would end this process
  CHECK_FALSE(p.a->write(FrameKind::kCall, 0, 1));
  Frame frame;
  CHECK(p.a->read(frame, in(std::chrono::seconds(5)), -1, "test") == Channel::ReadStatus::kClosed);
  sigset_t pending;
  ::sigpending(&pending);
  CHECK_FALSE(::sigismember(&pending, SIGPIPE));  // taken back, not left for later
}

TEST_CASE("beat() sends a heartbeat, and last_heard() moves when bytes come", "[channel][streams]") {
  PipePair p = make_pipe_pair();
  auto before = p.b->last_heard();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  p.a->beat();
  Frame frame;
  REQUIRE(p.b->read(frame, in(std::chrono::seconds(5)), -1, "test") == Channel::ReadStatus::kFrame);
  CHECK(frame.header.kind == FrameKind::kHeartbeat);
  CHECK(frame.payload.size() == 0);
  CHECK(p.b->last_heard() > before);
}

TEST_CASE("a stream channel refuses a payload claimed to be in shared memory", "[channel][streams]") {
  int a_to_b[2];
  REQUIRE(::pipe2(a_to_b, O_CLOEXEC) == 0);
  Channel reader(Channel::Streams{a_to_b[0], ::dup(a_to_b[0])});
  struct {
    FrameHeader header;
    std::uint32_t descriptor[4];
  } sent{{16, static_cast<FrameKind>(static_cast<std::uint16_t>(FrameKind::kResult) | kSharedPayloadBit), 0, 1},
         {0, 8, 1, 0}};
  REQUIRE(::write(a_to_b[1], &sent, sizeof sent) == sizeof sent);
  Frame frame;
  CHECK_THROWS_WITH(reader.read(frame, in(std::chrono::seconds(5)), -1, "test"),
                    Catch::Contains("shared memory on a launcher's channel"));
  ::close(a_to_b[1]);
}
