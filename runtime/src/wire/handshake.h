#pragma once

// The start of every conversation with a child, written once for private and
// shared children. The parent sends Select (which class, built from what),
// and to a child it starts, Construct; the child checks the selection and
// answers Ready, or Error with a Failure that says why it will not serve.
//
//   parent                     child
//   Select, [Construct]  ->    check(), construct the object
//                        <-    Ready | Error(Failure)

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "transport/channel.h"
#include "wire/protocol.capnp.h"

namespace procxy::detail {

// What a shared child needs to know to listen (sent to a new one only).
struct SharedSetup {
  std::string socket;  // where clients connect
  std::string lock;    // the start lock, taken again to leave without a race
  std::chrono::milliseconds idle_exit{0};
};

// What a child started through a launcher (Options::launcher) sets up on
// itself: a launcher such as ssh carries neither the parent's environment
// nor its directory.
struct LaunchSetup {
  std::map<std::string, std::string> env;
  bool clear_env = false;  // Options::inherit_env = false
  std::string cwd;         // empty: where the launcher started it
  std::string limits;      // process/limits.h's encoding; empty: none
  std::chrono::milliseconds heartbeat{0};
};

// What a sandboxed child may still do once it serves (Options::sandbox).
struct SandboxSetup {
  std::vector<std::string> read_only;
  std::vector<std::string> read_write;
  bool network = false;
  bool exec = false;
  std::vector<std::string> allow_syscalls;
  bool best_effort = false;

  bool operator==(const SandboxSetup&) const = default;
};

struct Selection {
  std::string class_name;
  std::uint64_t interface_hash = 0;
  std::uint32_t runtime_version = 0;  // PROCXY_VERSION of the sender
  std::uint32_t concurrency = 1;
  std::optional<SharedSetup> shared;
  std::optional<LaunchSetup> launched;
  std::optional<SandboxSetup> sandbox;
};

// The parent's side.

// Sends the Select frame of `selection`.
void write_select(Channel& channel, const Selection& selection);

struct Answer {
  enum Status { kReady, kFailure, kClosed, kTimeout } status;
  kj::Array<capnp::word> failure;  // kFailure: the child's wire::Failure
  pid_t pid = 0;                   // kReady: the child's pid on its machine
  // kClosed: the syscall for which the child's sandbox killed it, if it said so.
  std::optional<std::uint64_t> sandboxed{};
};
// Reads the child's answer to Select (and Construct) until `deadline`,
// passing over heartbeats. Throws ProtocolError, naming `child`, for any
// other frame.
Answer read_answer(Channel& channel, Channel::Clock::time_point deadline, const std::string& child);

// The child's side: messages name side_name().

// Reads the start frame of `kind`, until `deadline`, passing over
// heartbeats; nothing when the parent went away or the deadline passed. Throws ProtocolError for another frame,
// or a malformed one.
std::optional<Frame> read_start_frame(Channel& channel, FrameKind kind, Channel::Clock::time_point deadline);
Selection decode_selection(Frame& frame);

struct Refusal {
  wire::Failure::Kind kind;
  std::string text;
};
// Why this child, serving `served` (its name and interface hash) under
// `sandbox`, will not serve `selection` from process `peer` (0: the parent
// that started it); nothing when it will.
std::optional<Refusal> check(const Selection& selection, std::string_view served, std::uint64_t interface_hash,
                             const std::optional<SandboxSetup>& sandbox, pid_t peer);

// Tells the peer why it is refused. False when it is gone.
bool refuse(Channel& channel, const Refusal& refusal);
// Ready, with this process's pid.
bool write_ready(Channel& channel);

}  // namespace procxy::detail
