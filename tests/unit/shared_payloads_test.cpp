// Large payloads through shared memory, on a real socket pair: the socket
// carries only descriptors, buffers are reused once handed back, held ones
// make the channel open more and then fall back to the socket, a payload
// outlives its channel, no descriptor leaks, and invalid descriptors (or
// buffers) are protocol errors.

#include "transport/shared_payloads.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "procxy/errors.h"
#include "transport/channel.h"
#include "transport/unix_socket.h"
#include "wire/protocol.capnp.h"

using namespace procxy::detail;

namespace {

Channel::Clock::time_point soon() { return Channel::Clock::now() + std::chrono::seconds(5); }

int open_fds() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  REQUIRE(dir);
  while (::readdir(dir)) ++count;
  ::closedir(dir);
  return count;
}

// Bytes waiting on the socket `fd`, not yet read.
int waiting(int fd) {
  int bytes = 0;
  REQUIRE(::ioctl(fd, FIONREAD, &bytes) == 0);
  return bytes;
}

// A Select message whose class name is `size` copies of `fill`.
void write_large(Channel& channel, std::uint64_t id, std::size_t size, char fill) {
  capnp::MallocMessageBuilder message;
  message.initRoot<procxy::wire::Select>().setClassName(std::string(size, fill));
  REQUIRE(channel.write(FrameKind::kSelect, 0, id, message.getSegmentsForOutput()));
}

void check_large(const Frame& frame, std::uint64_t id, std::size_t size, char fill) {
  CHECK(frame.header.kind == FrameKind::kSelect);
  CHECK(frame.header.id == id);
  CHECK(frame.header.size == frame.payload.size() * sizeof(capnp::word));
  capnp::FlatArrayMessageReader reader(frame.payload.asPtr(), capnp::ReaderOptions{1u << 30, 64});
  auto name = reader.getRoot<procxy::wire::Select>().getClassName();
  REQUIRE(name.size() == size);
  CHECK(std::string(name.cStr(), name.size()) == std::string(size, fill));
}

struct Pair {
  int writer_fd;
  int reader_fd;
  std::unique_ptr<Channel> writer;
  std::unique_ptr<Channel> reader;
};

Pair make_pair() {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  return {fds[0], fds[1], std::make_unique<Channel>(fds[0]), std::make_unique<Channel>(fds[1])};
}

constexpr std::size_t kLarge = 1 << 20;
constexpr int kDescriptorFrame = kFrameHeaderSize + sizeof(SharedDescriptor);

// Writes a large frame that must cross in shared memory, and reads it back.
void cross_shared(Pair& p, std::uint64_t id, std::size_t size, char fill) {
  write_large(*p.writer, id, size, fill);
  CHECK(waiting(p.reader_fd) == kDescriptorFrame);
  Frame frame;
  REQUIRE(p.reader->read(frame, soon(), -1, "test") == Channel::ReadStatus::kFrame);
  check_large(frame, id, size, fill);
}

}  // namespace

TEST_CASE("a large payload crosses in shared memory; the socket carries its descriptor", "[shared]") {
  Pair p = make_pair();
  cross_shared(p, 1, kLarge, 'a');
}

TEST_CASE("a payload below the threshold goes through the socket", "[shared]") {
  Pair p = make_pair();
  write_large(*p.writer, 1, kSharedMinBytes / 2, 'b');
  CHECK(waiting(p.reader_fd) > static_cast<int>(kSharedMinBytes / 2));
  Frame frame;
  REQUIRE(p.reader->read(frame, soon(), -1, "test") == Channel::ReadStatus::kFrame);
  check_large(frame, 1, kSharedMinBytes / 2, 'b');
}

TEST_CASE("a buffer handed back is reused, with no new file descriptor", "[shared]") {
  Pair p = make_pair();
  const capnp::word* first;
  {
    write_large(*p.writer, 1, kLarge, 'c');
    Frame frame;
    REQUIRE(p.reader->read(frame, soon(), -1, "test") == Channel::ReadStatus::kFrame);
    first = frame.payload.begin();
  }  // the payload was copied out as it was read: the buffer went back to the writer
  int fds = open_fds();
  for (std::uint64_t id = 2; id < 10; ++id) {
    write_large(*p.writer, id, kLarge - id * 8, static_cast<char>('c' + id));
    Frame frame;
    REQUIRE(p.reader->read(frame, soon(), -1, "test") == Channel::ReadStatus::kFrame);
    CHECK(frame.payload.begin() == first);
    check_large(frame, id, kLarge - id * 8, static_cast<char>('c' + id));
  }
  CHECK(open_fds() == fds);
}

TEST_CASE("buffers not yet read make the writer open more, then use the socket", "[shared]") {
  Pair p = make_pair();
  // Small enough for the socket's buffer when it goes that way: no thread needed.
  constexpr std::size_t kSize = kSharedMinBytes;
  std::vector<Frame> held(kSharedSlots + 1);
  for (std::size_t i = 0; i < held.size(); ++i) {
    write_large(*p.writer, i, kSize, static_cast<char>('A' + i));
    if (i < kSharedSlots) {
      CHECK(waiting(p.reader_fd) == static_cast<int>((i + 1) * kDescriptorFrame));
    } else {
      CHECK(waiting(p.reader_fd) > static_cast<int>(kSize));  // every buffer is held: nothing was read
    }
  }
  for (std::size_t i = 0; i < held.size(); ++i) {
    REQUIRE(p.reader->read(held[i], soon(), -1, "test") == Channel::ReadStatus::kFrame);
    check_large(held[i], i, kSize, static_cast<char>('A' + i));
  }
  // Reading copied each payload out and handed its buffer back at once,
  // though the frames are still held.
  cross_shared(p, 100, kSize, 'z');
}

TEST_CASE("a larger payload replaces a free buffer that is too small", "[shared]") {
  Pair p = make_pair();
  std::vector<Frame> held(kSharedSlots);
  for (std::size_t i = 0; i < held.size(); ++i) {
    write_large(*p.writer, i, kSharedMinBytes, 's');
    REQUIRE(p.reader->read(held[i], soon(), -1, "test") == Channel::ReadStatus::kFrame);
  }
  held[0] = Frame{};
  cross_shared(p, 50, 4 * kLarge, 'L');
  for (std::size_t i = 1; i < held.size(); ++i) check_large(held[i], i, kSharedMinBytes, 's');
}

TEST_CASE("a payload outlives its channels, and nothing leaks", "[shared]") {
  int fds = open_fds();
  Frame frame;
  {
    Pair p = make_pair();
    write_large(*p.writer, 1, kLarge, 'o');
    write_large(*p.writer, 2, kLarge, 'p');  // read by no one: its fd waits in the socket
    REQUIRE(p.reader->read(frame, soon(), -1, "test") == Channel::ReadStatus::kFrame);
  }
  check_large(frame, 1, kLarge, 'o');
  frame = Frame{};
  CHECK(open_fds() == fds);
}

namespace {

// Sends a frame with the shared-payload bit and `descriptor` on `fd`, with
// `attached` (unless -1) as its SCM_RIGHTS file descriptor.
void send_descriptor(int fd, const SharedDescriptor& descriptor, int attached) {
  FrameHeader header{kSharedDescriptorBytes,
                     static_cast<FrameKind>(static_cast<std::uint16_t>(FrameKind::kResult) | kSharedPayloadBit), 0, 1};
  iovec iov[2] = {{&header, sizeof header}, {const_cast<SharedDescriptor*>(&descriptor), sizeof descriptor}};
  msghdr message{};
  message.msg_iov = iov;
  message.msg_iovlen = 2;
  FdControl control;
  if (attached >= 0) attach_fd(message, control, attached);
  REQUIRE(::sendmsg(fd, &message, 0) == kDescriptorFrame);
}

int memfd(std::size_t size, unsigned seals) {
  int fd = ::memfd_create("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  REQUIRE(fd >= 0);
  REQUIRE(::ftruncate(fd, static_cast<off_t>(size)) == 0);
  if (seals) REQUIRE(::fcntl(fd, F_ADD_SEALS, seals) == 0);
  return fd;
}

constexpr unsigned kSealed = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
constexpr std::size_t kBuffer = (1 << 20) + 4096;  // 1 MiB of data, then the page of the held word

}  // namespace

TEST_CASE("invalid descriptors and buffers are protocol errors naming the side", "[shared]") {
  struct Bad {
    const char* what;
    SharedDescriptor descriptor;
    int fd_size;  // a memfd of this size goes with the frame; 0: none
    unsigned seals;
    const char* message;
  };
  for (const Bad& bad : {
           Bad{"fresh without a file descriptor", {0, 4096, 1, 0}, 0, 0, "did not arrive"},
           Bad{"a slot never sent", {2, 4096, 0, 0}, 0, 0, "never sent"},
           Bad{"a slot out of range", {kSharedSlots, 4096, 0, 0}, 0, 0, "invalid descriptor"},
           Bad{"reserved bits", {0, 4096, 1, 9}, kBuffer, kSealed, "invalid descriptor"},
           Bad{"an unaligned size", {0, 4095, 1, 0}, kBuffer, kSealed, "multiple of 8"},
           Bad{"an empty payload", {0, 0, 1, 0}, kBuffer, kSealed, "multiple of 8"},
           Bad{"larger than its buffer", {0, 2 << 20, 1, 0}, kBuffer, kSealed, "larger"},
           Bad{"a buffer that can shrink", {0, 4096, 1, 0}, kBuffer, F_SEAL_GROW, "not sealed"},
           Bad{"a buffer that is too large", {0, 4096, 1, 0}, (64 << 20) + 4096, kSealed, "invalid size"},
       }) {
    DYNAMIC_SECTION(bad.what) {
      int fds[2];
      REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
      int before = open_fds();
      {
        Channel reader(fds[1]);
        int attached = bad.fd_size ? memfd(static_cast<std::size_t>(bad.fd_size), bad.seals) : -1;
        send_descriptor(fds[0], bad.descriptor, attached);
        if (attached >= 0) ::close(attached);
        Frame frame;
        CHECK_THROWS_WITH(reader.read(frame, soon(), -1, "parent"),
                          Catch::StartsWith("procxy: parent:") && Catch::Contains(bad.message));
      }
      ::close(fds[0]);
      CHECK(open_fds() == before - 2);  // both ends are closed, and no memfd stays open
    }
  }
}

TEST_CASE("a frame with the shared bit and a payload that is no descriptor is refused", "[shared]") {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  Channel reader(fds[1]);
  FrameHeader header{24, static_cast<FrameKind>(static_cast<std::uint16_t>(FrameKind::kCall) | kSharedPayloadBit), 0,
                     1};
  REQUIRE(::write(fds[0], &header, sizeof header) == sizeof header);
  Frame frame;
  CHECK_THROWS_WITH(reader.read(frame, soon(), -1, "child 7"),
                    Catch::Contains("procxy: child 7:") && Catch::Contains("descriptor has 24 bytes"));
  ::close(fds[0]);
}
