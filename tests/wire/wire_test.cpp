// Wire conformance: each corpus sample goes to a real child's server (after a
// proper start) and to the parent's client (from a fake child), and each
// side must end as the sample's .expected says: never a crash, hang or
// misread.

#define CATCH_CONFIG_RUNNER
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "corpus.h"
#include "echo.procxy.h"
#include "fake_child.h"
#include "parent/connection.h"
#include "process/spawn.h"
#include "process/supervisor.h"
#include "procxy/version.h"
#include "wire/protocol.capnp.h"

using namespace procxy::detail;
using wire_test::fake_child;
using wire_test::Receiver;
using wire_test::Sample;

namespace {

constexpr auto kGenerous = std::chrono::seconds(20);

void send(int fd, const Sample& sample) {
  std::size_t sent = 0;
  while (sent < sample.bytes.size()) {
    ssize_t n = ::send(fd, sample.bytes.data() + sent, sample.bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the receiver already gave up: what it did is checked next
    sent += static_cast<std::size_t>(n);
  }
  if (sample.eof) ::shutdown(fd, SHUT_WR);
}

// Reads frames from `fd` (a Subscribe may come first) until the parent's
// call, within kGenerous each.
bool read_call(int fd) {
  auto receive = [fd](void* into, std::size_t size) {
    std::size_t got = 0;
    while (got < size) {
      pollfd readable{fd, POLLIN, 0};
      if (::poll(&readable, 1, static_cast<int>(std::chrono::milliseconds(kGenerous).count())) != 1) return false;
      ssize_t n = ::recv(fd, static_cast<char*>(into) + got, size - got, 0);
      if (n <= 0) return false;
      got += static_cast<std::size_t>(n);
    }
    return true;
  };
  for (;;) {
    procxy::detail::FrameHeader header;
    if (!receive(&header, sizeof header)) return false;
    std::vector<char> payload(header.size);
    if (!receive(payload.data(), payload.size())) return false;
    if (header.kind == procxy::detail::FrameKind::kCall) return true;
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A started child serving wire_test::Echo, its stderr going to a file.
struct StartedEcho {
  StartedProcess process;
  std::string stderr_path;
};

StartedEcho start_echo(const std::string& name) {
  StartedEcho echo;
  echo.stderr_path =
      (std::filesystem::temp_directory_path() / ("procxy_wire_" + std::to_string(::getpid()) + "_" + name + ".stderr"))
          .string();
  int log = ::open(echo.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int saved = ::dup(STDERR_FILENO);
  ::dup2(log, STDERR_FILENO);  // inherited by the child as its stderr
  echo.process = start_process(procxy::Options{}, "wire_test::Echo");
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  ::close(log);
  return echo;
}

// The child side: start properly, then send the sample; say what the child did.
std::string child_outcome(const Sample& sample) {
  StartedEcho echo = start_echo(sample.name);
  Channel channel(echo.process.channel_fd);
  using Traits = procxy::detail::ClassTraits<wire_test::Echo>;
  capnp::MallocMessageBuilder select_message;
  auto select = select_message.initRoot<procxy::wire::Select>();
  select.setClassName(std::string(Traits::kName));
  select.setInterfaceHash(Traits::kInterfaceHash);
  select.setRuntimeVersion(PROCXY_VERSION);
  channel.write(FrameKind::kSelect, 0, 0, select_message.getSegmentsForOutput());
  Construction construction = Traits::construct();
  channel.write(FrameKind::kConstruct, construction.ordinal, 0, construction.message->getSegmentsForOutput());
  Frame ready;
  REQUIRE(channel.read(ready, Channel::Clock::now() + kGenerous, -1, "test") == Channel::ReadStatus::kFrame);
  REQUIRE(ready.header.kind == FrameKind::kReady);

  send(channel.fd(), sample);
  Frame reply;
  auto status = channel.read(reply, Channel::Clock::now() + kGenerous, -1, "test");
  std::string outcome;
  if (status == Channel::ReadStatus::kFrame && reply.header.kind == FrameKind::kError) {
    Reply failure(std::move(reply.payload));
    outcome = "error reply: " + std::string(failure.root<procxy::wire::Failure>().getMessage().cStr());
    channel.write(FrameKind::kShutdown, 0, 0);
  } else if (status == Channel::ReadStatus::kFrame) {
    outcome = "reply of kind " + std::to_string(static_cast<int>(reply.header.kind));
  } else if (status == Channel::ReadStatus::kTimeout) {
    outcome = "hang";
    echo.process.process->signal(SIGKILL);
  }
  procxy::ExitStatus exit = echo.process.process->wait();
  if (outcome.empty() && exit.exit_code == 0) {
    outcome = "closed";
  } else if (outcome.empty() && exit.exit_code) {
    outcome = "exit " + std::to_string(*exit.exit_code) + ": " + read_file(echo.stderr_path);
  } else if (outcome.empty()) {
    outcome = exit.to_string() + ": " + read_file(echo.stderr_path);
  }
  std::filesystem::remove(echo.stderr_path);
  return outcome;
}

// The parent side: a connection whose child sends the sample in reply to a call.
std::string parent_outcome(const Sample& sample) {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  ChildRecipe recipe{procxy::Options{}, "wire_test::Echo", 0, Construction{0, nullptr}, {}};
  auto child = fake_child();
  auto connection =
      std::make_shared<Connection>(std::move(recipe), nullptr, Link{std::make_unique<Channel>(fds[0]), child});
  connection->start();
  procxy::Proxy<wire_test::Echo> proxy(connection);
  if (sample.name.rfind("event_", 0) == 0) {
    proxy.on(&wire_test::Echo::moved, [](const std::vector<wire_test::Point>&) {});  // events of ordinal 0 are read
  }
  // The call goes out first, as a child replies only after a call came: a
  // reply read before its request exists is one nobody waits for, dropped.
  procxy::CallOptions options;
  options.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(kGenerous);
  std::exception_ptr failure;
  std::thread caller([&] {
    try {
      proxy.with(options)->points({});  // request id 1, which the samples answer
    } catch (...) {
      failure = std::current_exception();
    }
  });
  bool called = read_call(fds[1]);
  bool replied = true;
  send(fds[1], sample);
  if (sample.expected == "ignored") {
    // Then a sound reply to the call: it must still arrive.
    const std::uint8_t result[] = {24, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,   // header: Result, id 1
                                   0,  0, 0, 0, 2, 0, 0, 0,                           // one segment of 2 words
                                   0,  0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0};  // struct {null list}
    replied = ::send(fds[1], result, sizeof result, MSG_NOSIGNAL) == sizeof result;
  }
  caller.join();  // before any REQUIRE: a failed one must not leave the thread running
  REQUIRE(called);
  REQUIRE(replied);
  std::string outcome;
  try {
    if (failure) std::rethrow_exception(failure);
    outcome = "ignored";
  } catch (const procxy::ProtocolError& e) {
    outcome = std::string("ProtocolError: ") + e.what();
    // A child that sends anything malformed is not trusted with more calls.
    if (!child->wait_for(std::chrono::duration_cast<std::chrono::milliseconds>(kGenerous))) {
      outcome = "ProtocolError, and the child was not killed: " + outcome;
    }
  } catch (const procxy::ChildExitedError& e) {
    outcome = std::string("ChildExitedError: ") + e.what();
  } catch (const std::exception& e) {
    outcome = std::string("other error: ") + e.what();
  }
  ::close(fds[1]);
  return outcome;
}

// "ProtocolError: <text>" matches an outcome of that kind containing <text>.
void check(const std::string& outcome, const std::string& expected) {
  INFO("outcome: " << outcome);
  auto colon = expected.find(": ");
  if (colon == std::string::npos) {
    CHECK(outcome == expected);
    return;
  }
  CHECK(outcome.rfind(expected.substr(0, colon + 2), 0) == 0);
  CHECK_THAT(outcome, Catch::Contains(expected.substr(colon + 2)));
}

}  // namespace

TEST_CASE("every corpus sample sent to a child's server ends as expected", "[wire]") {
  for (const Sample& sample : wire_test::load_corpus(PROCXY_WIRE_CORPUS, Receiver::kChild)) {
    DYNAMIC_SECTION(sample.name) { check(child_outcome(sample), sample.expected); }
  }
}

TEST_CASE("every corpus sample sent to the parent's client ends as expected", "[wire]") {
  for (const Sample& sample : wire_test::load_corpus(PROCXY_WIRE_CORPUS, Receiver::kParent)) {
    DYNAMIC_SECTION(sample.name) { check(parent_outcome(sample), sample.expected); }
  }
}

int main(int argc, char** argv) {
  procxy::serve_if_child(argc, argv);
  return Catch::Session().run(argc, argv);
}
