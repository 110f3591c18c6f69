// Writes the seeds the fuzzers start from, so that fuzzing begins at inputs
// that reach each check instead of at nothing:
// * FRAME_DIR: the wire conformance corpus (tests/wire/corpus, kept as text)
//   as the raw bytes fuzz_frame reads, one file per sample and receiver;
// * MESSAGE_DIR: one call of each method of fuzz::Sink as fuzz_message reads
//   it (two bytes of method form, then the message), encoded by the
//   generated proxy and captured from its channel.
// Usage: fuzz_seeds FRAME_DIR MESSAGE_DIR

#include <sys/socket.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

#include "corpus.h"
#include "fake_child.h"
#include "parent/connection.h"
#include "sink.procxy.h"

namespace {

using namespace procxy::detail;

void write_file(const std::filesystem::path& path, const void* data, std::size_t size) {
  std::ofstream file(path, std::ios::binary);
  file.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!file) throw std::runtime_error("cannot write " + path.string());
}

int write_frame_seeds(const std::filesystem::path& out) {
  int written = 0;
  for (auto [receiver, side] :
       {std::pair{wire_test::Receiver::kChild, "child"}, std::pair{wire_test::Receiver::kParent, "parent"}}) {
    for (const wire_test::Sample& sample : wire_test::load_corpus(PROCXY_WIRE_CORPUS, receiver)) {
      write_file(out / (std::string(side) + "_" + sample.name), sample.bytes.data(), sample.bytes.size());
      ++written;
    }
  }
  return written;
}

int write_message_seeds(const std::filesystem::path& out) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) throw std::runtime_error("socketpair failed");
  Channel child_end(fds[1]);
  ChildRecipe recipe{procxy::Options{}, std::string(ClassTraits<fuzz::Sink>::kName), 0, Construction{0, nullptr}, {}};
  auto connection = std::make_shared<Connection>(std::move(recipe), nullptr,
                                                 Link{std::make_unique<Channel>(fds[0]), wire_test::fake_child()});
  connection->start();
  procxy::Proxy<fuzz::Sink> sink(connection);

  // The calls are written at once; their replies never come.
  fuzz::Inner inner{"text", {1.5, -2.0}, 7};
  fuzz::Outer outer{inner, {inner, fuzz::Inner{}}, fuzz::Mode::b};
  const std::vector<std::byte> bytes{std::byte{1}, std::byte{2}, std::byte{3}};
  auto calls =
      std::make_tuple(sink.async()->scalars(true, -8, 16, -32, 64, 1.5f, -2.5, 'c', fuzz::Mode::b),
                      sink.async()->strings("string", "view", "/a/path", bytes),
                      sink.async()->containers({outer}, {{"key", 1}}, {1, 2}, {{3, "three"}}, {4, 5, 6}),
                      sink.async()->composites(inner, {9, inner}, {"pair", 0.5}, outer),
                      sink.async()->composites(std::string("alternative"), {0, {}}, {}, std::nullopt),
                      sink.async()->times(std::chrono::milliseconds(1500), std::chrono::system_clock::time_point{}),
                      sink.async()->echo({outer, outer}));
  constexpr int kCalls = std::tuple_size_v<decltype(calls)>;

  for (int i = 0; i < kCalls; ++i) {
    Frame frame;
    auto deadline = Channel::Clock::now() + std::chrono::seconds(10);
    if (child_end.read(frame, deadline, -1, "fuzz_seeds") != Channel::ReadStatus::kFrame) {
      throw std::runtime_error("the proxy's calls did not arrive");
    }
    std::string seed(reinterpret_cast<const char*>(&frame.header.ordinal), sizeof frame.header.ordinal);
    seed.append(reinterpret_cast<const char*>(frame.payload.begin()), frame.payload.size() * sizeof(capnp::word));
    write_file(out / ("call_" + std::to_string(i)), seed.data(), seed.size());
  }
  sink.kill();
  return kCalls;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s FRAME_DIR MESSAGE_DIR\n", argv[0]);
    return 2;
  }
  try {
    std::filesystem::path frames = argv[1];
    std::filesystem::path messages = argv[2];
    std::filesystem::create_directories(frames);
    std::filesystem::create_directories(messages);
    int frame_seeds = write_frame_seeds(frames);
    int message_seeds = write_message_seeds(messages);
    std::printf("fuzz_seeds: %d seeds in %s, %d in %s\n", frame_seeds, frames.c_str(), message_seeds, messages.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
