#include "dispatch/server.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>

#include "log.h"
#include "procxy/version.h"
#include "registry.h"
#include "remote_error.h"
#include "transport/channel.h"

namespace procxy::detail {
namespace {

// Exit codes of a child that gives up; the parent reports them.
constexpr int kExitStartFailed = 1;
constexpr int kExitProtocol = 70;

[[noreturn]] void fail_start(Channel& channel, wire::Failure::Kind kind, const std::string& text) {
  capnp::MallocMessageBuilder message;
  encode_failure(message, kind, text);
  channel.write(FrameKind::kError, 0, 0, message.getSegmentsForOutput());
  std::fflush(nullptr);
  _exit(kExitStartFailed);
}

std::string me() { return "procxy: child " + std::to_string(getpid()); }

Frame read_start_frame(Channel& channel, FrameKind expected) {
  Frame frame;
  if (channel.read(frame, Channel::Clock::time_point::max(), -1, "child") != Channel::ReadStatus::kFrame) {
    _exit(kExitStartFailed);  // the parent went away during the start
  }
  if (frame.header.kind != expected) {
    fail_start(channel, wire::Failure::Kind::PROTOCOL,
               me() + ": expected frame kind " + std::to_string(static_cast<int>(expected)) + " while starting, got " +
                   std::to_string(static_cast<int>(frame.header.kind)));
  }
  return frame;
}

std::atomic<bool> g_serving{false};

}  // namespace

bool serving() { return g_serving.load(std::memory_order_relaxed); }

void serve(int fd) {
  g_serving = true;
  Channel channel(fd);
  const ClassEntry* entry = nullptr;
  void* object = nullptr;
  try {
    Frame select_frame = read_start_frame(channel, FrameKind::kSelect);
    Reply select_reply(std::move(select_frame.payload));
    auto select = select_reply.root<wire::Select>();
    std::string name = select.getClassName();
    entry = find_class(name);
    if (!entry) {
      fail_start(channel, wire::Failure::Kind::UNKNOWN_CLASS,
                 me() + ": class '" + name + "' is not registered in this executable; link its generated " +
                     "*.procxy.cpp into the child program (procxy_generate or procxy_add_agent)");
    }
    if (entry->interface_hash != select.getInterfaceHash() || select.getRuntimeVersion() != PROCXY_VERSION) {
      fail_start(channel, wire::Failure::Kind::INTERFACE_MISMATCH,
                 me() + ": interface mismatch for '" + name + "': the parent and this child were built from " +
                     "different versions of its header (or of procxy); rebuild both from the same sources");
    }
    Frame construct = read_start_frame(channel, FrameKind::kConstruct);
    Reply params(std::move(construct.payload));
    object = entry->construct(construct.header.ordinal, params);
  } catch (...) {
    capnp::MallocMessageBuilder message;
    encode_current_exception(message);
    channel.write(FrameKind::kError, 0, 0, message.getSegmentsForOutput());
    std::fflush(nullptr);
    _exit(kExitStartFailed);
  }
  channel.write(FrameKind::kReady, 0, 0);
  log(LogCategory::kSpawn, "serving %.*s", static_cast<int>(entry->name.size()), entry->name.data());

  Frame frame;
  for (;;) {
    Channel::ReadStatus status;
    try {
      status = channel.read(frame, Channel::Clock::time_point::max(), -1, "child");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s; exiting\n", me().c_str(), e.what());
      _exit(kExitProtocol);
    }
    if (status != Channel::ReadStatus::kFrame || frame.header.kind == FrameKind::kShutdown) break;
    if (frame.header.kind != FrameKind::kCall) {
      std::fprintf(stderr, "%s: unexpected frame kind %d from the parent; exiting\n", me().c_str(),
                   static_cast<int>(frame.header.kind));
      _exit(kExitProtocol);
    }
    capnp::MallocMessageBuilder reply;
    FrameKind kind = FrameKind::kResult;
    try {
      Reply params(std::move(frame.payload));
      entry->dispatch(object, frame.header.ordinal, params, reply);
      if (std::size_t size = Channel::payload_bytes(reply.getSegmentsForOutput()); size > kMaxFrameSize) {
        throw frame_too_large(size, me() + ": the results");  // reported like any exception
      }
    } catch (...) {
      capnp::MallocMessageBuilder failure;
      encode_current_exception(failure);
      kind = FrameKind::kError;
      if (!channel.write(kind, 0, frame.header.id, failure.getSegmentsForOutput())) break;
      continue;
    }
    if (!channel.write(kind, 0, frame.header.id, reply.getSegmentsForOutput())) break;
  }
  entry->destroy(object);
  std::fflush(nullptr);
  _exit(0);
}

}  // namespace procxy::detail
