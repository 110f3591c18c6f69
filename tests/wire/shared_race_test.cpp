// A peer that keeps rewriting a payload it lent through shared memory while
// the receiver decodes it (issue 20): what the receiver reads must be one
// snapshot nobody else can change, or Cap'n Proto's reader, which reads a
// pointer again after bounds-checking it, can be made to read outside the
// segment it checked. The writer is a real process with its own mapping of
// the buffer; the payload's descriptor comes through a real socket.

#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <vector>

#include "transport/channel.h"
#include "transport/frame.h"
#include "transport/shared_payloads.h"
#include "transport/unix_socket.h"

using namespace procxy::detail;

namespace {

constexpr std::size_t kBlobBytes = 96 * 1024;  // above kSharedMinBytes
constexpr std::size_t kBufferBytes = 256 * 1024;
constexpr std::size_t kTrailer = 4096;  // the page of the held word
constexpr int kFrames = 300;
constexpr auto kChecksPerFrame = std::chrono::milliseconds(3);

// A sealed memfd as a sender lends it, mapped.
struct Buffer {
  int fd = -1;
  char* memory = nullptr;
};

Buffer make_buffer() {
  Buffer buffer;
  buffer.fd = ::memfd_create("procxy-race", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  REQUIRE(buffer.fd >= 0);
  REQUIRE(::ftruncate(buffer.fd, kBufferBytes + kTrailer) == 0);
  REQUIRE(::fcntl(buffer.fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0);
  void* memory = ::mmap(nullptr, kBufferBytes + kTrailer, PROT_READ | PROT_WRITE, MAP_SHARED, buffer.fd, 0);
  REQUIRE(memory != MAP_FAILED);
  buffer.memory = static_cast<char*>(memory);
  return buffer;
}

// Sends a descriptor for the payload at the start of slot 0's buffer.
void send_descriptor(int socket, std::uint32_t bytes, int fd) {
  FrameHeader header{kSharedDescriptorBytes,
                     static_cast<FrameKind>(static_cast<std::uint16_t>(FrameKind::kResult) | kSharedPayloadBit), 0, 1};
  SharedDescriptor descriptor{0, bytes, fd >= 0 ? 1u : 0u, 0};
  iovec iov[2] = {{&header, sizeof header}, {&descriptor, sizeof descriptor}};
  msghdr message{};
  message.msg_iov = iov;
  message.msg_iovlen = 2;
  FdControl control;
  if (fd >= 0) attach_fd(message, control, fd);
  REQUIRE(::sendmsg(socket, &message, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof header + sizeof descriptor));
}

// What the receiver makes of a payload: the blob's size, or -1 when the
// reader refuses it.
long decode(kj::ArrayPtr<const capnp::word> payload) {
  try {
    capnp::FlatArrayMessageReader reader(payload);
    return static_cast<long>(reader.getRoot<capnp::AnyPointer>().getAs<capnp::Data>().size());
  } catch (const kj::Exception&) {
    return -1;
  }
}

}  // namespace

TEST_CASE("a payload in shared memory cannot change while the receiver decodes it", "[wire][shared]") {
  // The message: a root pointer to a byte list inside its one segment.
  capnp::MallocMessageBuilder builder;
  builder.initRoot<capnp::AnyPointer>().initAs<capnp::Data>(kBlobBytes);
  kj::Array<capnp::word> flat = capnp::messageToFlatArray(builder);
  std::size_t bytes = flat.size() * sizeof(capnp::word);
  REQUIRE(bytes <= kBufferBytes);

  Buffer buffer = make_buffer();
  std::memcpy(buffer.memory, flat.begin(), bytes);
  // The root pointer (after the one-word segment table), as sent, and one
  // whose list claims 512 KiB more than the segment holds.
  auto* root = reinterpret_cast<std::uint64_t*>(buffer.memory) + 1;
  const std::uint64_t good = *root;
  const std::uint64_t bad = (good & 0x00000007FFFFFFFFull) | (std::uint64_t{kBlobBytes + 512 * 1024} << 35);

  // The hostile writer: a process that flips the pointer until it is killed.
  pid_t writer = ::fork();
  REQUIRE(writer >= 0);
  if (writer == 0) {
    std::atomic_ref<std::uint64_t> word(*root);
    for (;;) {
      word.store(bad, std::memory_order_relaxed);
      word.store(good, std::memory_order_relaxed);
    }
  }

  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  Channel receiver(fds[0]);
  int changed = 0;
  int inconsistent = 0;
  for (int i = 0; i < kFrames && changed == 0 && inconsistent == 0; ++i) {
    send_descriptor(fds[1], static_cast<std::uint32_t>(bytes), i == 0 ? buffer.fd : -1);
    Frame frame;
    REQUIRE(receiver.read(frame, Channel::Clock::now() + std::chrono::seconds(20), -1, "test") ==
            Channel::ReadStatus::kFrame);
    REQUIRE(frame.payload.size() * sizeof(capnp::word) == bytes);
    std::vector<capnp::word> snapshot(frame.payload.begin(), frame.payload.end());
    long first = decode(frame.payload);
    auto end = std::chrono::steady_clock::now() + kChecksPerFrame;
    while (std::chrono::steady_clock::now() < end) {
      if (std::memcmp(snapshot.data(), frame.payload.begin(), bytes) != 0) ++changed;
      if (decode(frame.payload) != first) ++inconsistent;
    }
  }
  ::kill(writer, SIGKILL);
  ::waitpid(writer, nullptr, 0);
  ::close(fds[1]);
  ::munmap(buffer.memory, kBufferBytes + kTrailer);
  ::close(buffer.fd);
  CHECK(changed == 0);
  CHECK(inconsistent == 0);
}
