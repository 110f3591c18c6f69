#include "child/calls.h"

#include <unistd.h>

#include <cstdio>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "child/current_exception.h"
#include "child/exit_codes.h"
#include "procxy/detail/generated_support.h"
#include "procxy/errors.h"
#include "side.h"
#include "wire/message.h"

namespace procxy::detail {

bool run_call(Channel& channel, const ClassEntry& entry, void* object, Frame& frame) {
  OutgoingMessage reply;
  try {
    Reply params(std::move(frame.payload));
    entry.dispatch(object, frame.header.ordinal, params, reply);
    if (std::size_t size = Channel::payload_bytes(reply.getSegmentsForOutput()); size > kMaxFrameSize) {
      // Reported like any exception.
      throw frame_too_large(size, std::string("procxy: ") + side_name() + ": the results");
    }
  } catch (...) {
    capnp::MallocMessageBuilder failure;
    encode_current_exception(failure);
    return channel.write(FrameKind::kError, 0, frame.header.id, failure.getSegmentsForOutput());
  }
  return channel.write(FrameKind::kResult, 0, frame.header.id, reply.getSegmentsForOutput());
}

namespace {

enum class Next { kCall, kNone, kEnd };  // kNone: woken, or nothing more before the deadline

Next read_next(Peer& peer, CallQueue& calls, Frame& frame, Channel::Clock::time_point deadline, int wake_fd) {
  try {
    for (;;) {
      Channel::ReadStatus status = peer.channel().read(frame, deadline, wake_fd, side_name());
      if (status == Channel::ReadStatus::kWoken || status == Channel::ReadStatus::kTimeout) return Next::kNone;
      if (status != Channel::ReadStatus::kFrame) return Next::kEnd;
      expect(frame.header.kind, Sender::kParent, Phase::kServing, side_name(), "the parent");
      validate_message(frame, side_name());
      switch (frame.header.kind) {
        case FrameKind::kShutdown:
          return Next::kEnd;
        case FrameKind::kSubscribe:
          peer.subscribe(frame.header.ordinal);
          // Written once the subscription is in effect: every call that
          // starts after it, from any peer, sends the event to this one.
          if (frame.header.id != 0) peer.channel().write(FrameKind::kSubscribed, frame.header.ordinal, frame.header.id);
          continue;
        case FrameKind::kCancel:
          calls.cancel(frame.header.id);
          continue;
        case FrameKind::kHeartbeat:  // the link watch saw it arrive
          continue;
        default:  // kCall: the only other kind a serving parent sends
          return Next::kCall;
      }
    }
  } catch (const std::exception& e) {
    // The peer's side of this channel is broken: nothing it sends can be
    // trusted. A shared child drops that peer and serves the others.
    if (side() == Side::kSharedChild) {
      std::fprintf(stderr, "%s; dropping that client\n", e.what());
      return Next::kEnd;
    }
    std::fprintf(stderr, "%s; the child exits\n", e.what());
    _exit(kExitProtocol);
  }
}

}  // namespace

bool next_call(Peer& peer, CallQueue& calls, Frame& frame, int wake_fd, bool* woken) {
  Next next = read_next(peer, calls, frame, Channel::Clock::time_point::max(), wake_fd);
  if (next == Next::kNone && woken) *woken = true;
  return next == Next::kCall;
}

bool take_pending(Peer& peer, CallQueue& calls) {
  Frame frame;
  while (calls.has_room()) {
    // A deadline already past: only what has arrived is read.
    switch (read_next(peer, calls, frame, Channel::Clock::time_point{}, -1)) {
      case Next::kCall:
        calls.push(std::move(frame));
        continue;
      case Next::kNone:
        return true;
      case Next::kEnd:
        return false;
    }
  }
  return true;
}

PeerServer::PeerServer(Peer& peer, const ClassEntry& entry, void* object, unsigned workers, CallGate& gate)
    : peer_(peer) {
  try {
    for (unsigned i = 0; i < workers; ++i) {
      workers_.emplace_back([this, &entry, object, &gate] {
        Frame frame;
        CallQueue::Running running;
        while (calls_.wait_next(frame, running)) {
          gate.acquire();
          bool peer_there = run_call(peer_.channel(), entry, object, frame);
          gate.release();
          calls_.finish();
          if (!peer_there) {
            calls_.close();
            peer_.channel().shutdown();  // ends the reading thread's wait too
          }
        }
      });
    }
  } catch (const std::system_error& e) {
    stop();
    throw Error(std::string("procxy: ") + side_name() + ": cannot start a thread to run calls (" + e.what() +
                "): the process is at its limit of threads (RLIMIT_NPROC) or memory");
  }
}

PeerServer::~PeerServer() { stop(); }

void PeerServer::stop() {
  calls_.close();
  for (std::thread& thread : workers_) thread.join();
  workers_.clear();
}

void PeerServer::run() {
  Frame frame;
  while (next_call(peer_, calls_, frame)) calls_.push(std::move(frame));
  stop();
}

void serve_peer(Peer& peer, const ClassEntry& entry, void* object, unsigned workers, CallGate& gate) {
  PeerServer(peer, entry, object, workers, gate).run();
}

}  // namespace procxy::detail
