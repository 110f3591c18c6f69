#include "child/server.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "child/calls.h"
#include "child/current_exception.h"
#include "child/exit_codes.h"
#include "child/inline_loop.h"
#include "child/link_watch.h"
#include "child/peers.h"
#include "child/registry.h"
#include "child/sandbox.h"
#include "child/shared_server.h"
#include "log.h"
#include "process/limits.h"
#include "process/spawn.h"
#include "side.h"
#include "transport/heartbeat.h"
#include "wire/handshake.h"

namespace procxy::detail {
namespace {

void keep_freed_memory() {
  // glibc returns freed memory at the top of the heap to the kernel, and
  // serves large blocks with mmap: a child that receives a 1 MiB argument
  // would then take fresh pages for it on every call, at a page fault per
  // 4 KiB (on a VM, ~10 µs each: 3 ms per MiB, ten times the transfer). A
  // child exists to serve calls, so it keeps what a call freed for the next.
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum
  ::mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

[[noreturn]] void fail_start(Channel& channel, const Refusal& refusal) {
  refuse(channel, refusal);
  std::fflush(nullptr);
  _exit(kExitStartFailed);
}

// The start frame of `kind`; exits when the parent went away meanwhile.
Frame start_frame(Channel& channel, FrameKind kind) {
  std::optional<Frame> frame;
  try {
    frame = read_start_frame(channel, kind, Channel::Clock::time_point::max());
  } catch (const ProtocolError& e) {
    fail_start(channel, {wire::Failure::Kind::PROTOCOL, e.what()});
  }
  if (!frame) _exit(kExitStartFailed);
  return std::move(*frame);
}

// What a launched child's start message asks it to set up on itself, before
// its object exists; exits, after telling the parent why, when it cannot.
void set_up(Channel& channel, const LaunchSetup& setup) {
  if (setup.clear_env) ::clearenv();
  for (const auto& [name, value] : setup.env) ::setenv(name.c_str(), value.c_str(), 1);
  if (!setup.cwd.empty() && ::chdir(setup.cwd.c_str()) != 0) {
    fail_start(channel, {wire::Failure::Kind::SETUP,
                         std::string("procxy: ") + side_name() + ": cannot enter directory '" + setup.cwd + "': " +
                             std::strerror(errno) + " (Options::cwd names a directory on the child's machine)"});
  }
  if (!setup.limits.empty()) {
    if (std::string failure = apply_limits(setup.limits.c_str()); !failure.empty()) {
      fail_start(channel, {wire::Failure::Kind::LIMITS, failure});
    }
  }
  // A large payload crosses a network in pauses a local socket never has.
  channel.allow_stalls_of(link_stall_limit(setup.heartbeat));
  try {
    watch_link(channel, setup.heartbeat);
  } catch (const Error& e) {
    fail_start(channel, {wire::Failure::Kind::SETUP, e.what()});
  }
}

struct Started {
  const ClassEntry* entry = nullptr;
  void* object = nullptr;
  Selection selection;
  std::optional<Listener> listener;  // a shared child's
};

// The handshake and the constructor. Exits, after telling the parent why,
// when the object cannot be served.
Started start(Channel& channel) {
  Started started;
  try {
    Frame select = start_frame(channel, FrameKind::kSelect);
    started.selection = decode_selection(select);
    if (started.selection.launched) set_up(channel, *started.selection.launched);
    const std::string& name = started.selection.class_name;
    started.entry = find_class(name);
    if (!started.entry) {
      fail_start(channel, {wire::Failure::Kind::UNKNOWN_CLASS,
                           std::string("procxy: ") + side_name() + ": class '" + name +
                               "' is not registered in this executable; link its generated *.procxy.cpp into the " +
                               "child program (procxy_generate or procxy_add_agent)"});
    }
    if (auto refusal = check(started.selection, started.entry->name, started.entry->interface_hash,
                             started.selection.sandbox, 0)) {
      fail_start(channel, *refusal);
    }
    if (started.selection.shared) become(Side::kSharedChild);
    Frame construct = start_frame(channel, FrameKind::kConstruct);
    Reply params(std::move(construct.payload));
    started.object = started.entry->construct(construct.header.ordinal, params);
    if (started.selection.shared) started.listener = listen_shared(*started.selection.shared);
    if (const auto& sandbox = started.selection.sandbox) {
      // A shared child's starter may leave before the child dies: only a
      // private child's parent hears which syscall killed it.
      try {
        engage_sandbox(*sandbox, started.selection.shared, started.selection.shared ? nullptr : &channel);
      } catch (const Error& e) {
        fail_start(channel, {wire::Failure::Kind::SANDBOX, e.what()});
      }
    }
  } catch (...) {
    capnp::MallocMessageBuilder message;
    encode_current_exception(message);
    channel.write(FrameKind::kError, 0, 0, message.getSegmentsForOutput());
    std::fflush(nullptr);
    _exit(kExitStartFailed);
  }
  return started;
}

// Serves the parent's calls (for a shared child, every client's) until the
// conversation ends.
void serve_calls(std::shared_ptr<Peer> parent, const Started& started) {
  const ClassEntry& entry = *started.entry;
  unsigned concurrency = started.selection.concurrency;
  if (const auto& shared = started.selection.shared) {
    ::close(kSharedLockFd);          // listening: whoever waits for the start may connect now
    write_ready(parent->channel());  // a starter that died meanwhile hears nothing
    log(LogCategory::kAttach, "shared %.*s serving on %s (%u call(s) at once)", static_cast<int>(entry.name.size()),
        entry.name.data(), shared->socket.c_str(), concurrency);
    serve_shared(*started.listener, std::move(parent), entry, started.object, concurrency, *shared,
                 started.selection.sandbox);
  } else {
    add_peer(parent);
    write_ready(parent->channel());
    log(LogCategory::kSpawn, "serving %.*s (%u call(s) at once)", static_cast<int>(entry.name.size()),
        entry.name.data(), concurrency);
    if (concurrency > 1) {
      CallGate gate(concurrency);
      serve_peer(*parent, entry, started.object, concurrency, gate);
    } else {
      serve_inline(*parent, entry, started.object);
    }
  }
}

}  // namespace

namespace {

[[noreturn]] void serve(std::shared_ptr<Peer> parent) {
  become(Side::kChild);
  keep_freed_memory();
  Started started = start(parent->channel());
  set_served_object(started.object);
  try {
    serve_calls(std::move(parent), started);
  } catch (const std::exception& e) {
    // The object is served no more (a thread or an eventfd could not be
    // made): never return into the program's main().
    std::fprintf(stderr, "procxy: %s: cannot go on serving: %s; the child exits\n", side_name(), e.what());
    std::fflush(nullptr);
    _exit(kExitServingFailed);
  }
  // Events the object emits while it is destroyed (or from its own threads
  // later) go nowhere.
  set_served_object(nullptr);
  started.entry->destroy(started.object);
  std::fflush(nullptr);
  _exit(0);
}

}  // namespace

void serve(int fd) { serve(std::make_shared<Peer>(fd)); }  // for a shared child, the one starting it

void serve_launched(Channel::Streams streams) { serve(std::make_shared<Peer>(streams)); }

}  // namespace procxy::detail
