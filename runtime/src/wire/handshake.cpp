#include "wire/handshake.h"

#include <capnp/message.h>
#include <unistd.h>

#include <algorithm>

#include "procxy/detail/generated_support.h"
#include "procxy/version.h"
#include "side.h"
#include "wire/failure.h"
#include "wire/message.h"

namespace procxy::detail {
namespace {

void set_texts(capnp::List<capnp::Text>::Builder list, const std::vector<std::string>& texts) {
  for (unsigned i = 0; i < texts.size(); ++i) list.set(i, texts[i]);
}

std::vector<std::string> texts_of(capnp::List<capnp::Text>::Reader list) {
  std::vector<std::string> texts;
  texts.reserve(list.size());
  for (auto text : list) texts.emplace_back(text);
  return texts;
}

// How a client's Options::sandbox differs from the one a shared child serves under.
std::string sandbox_difference(const std::optional<SandboxSetup>& wanted, const std::optional<SandboxSetup>& served) {
  if (!served) return "with Options::sandbox, but this shared child runs without one";
  if (!wanted) return "without Options::sandbox, but this shared child runs sandboxed";
  return "with an Options::sandbox other than the one this shared child runs under";
}

}  // namespace

void write_select(Channel& channel, const Selection& selection) {
  capnp::MallocMessageBuilder message;
  auto select = message.initRoot<wire::Select>();
  select.setClassName(selection.class_name);
  select.setInterfaceHash(selection.interface_hash);
  select.setRuntimeVersion(selection.runtime_version);
  select.setConcurrency(selection.concurrency);
  if (const auto& shared = selection.shared) {
    select.setSharedSocket(shared->socket);
    select.setSharedLock(shared->lock);
    select.setIdleExitMs(static_cast<std::uint64_t>(std::max<std::int64_t>(0, shared->idle_exit.count())));
  }
  if (const auto& launched = selection.launched) {
    auto setup = select.initLaunched();
    auto env = setup.initEnv(static_cast<unsigned>(launched->env.size()));
    unsigned i = 0;
    for (const auto& [name, value] : launched->env) {
      env[i].setName(name);
      env[i++].setValue(value);
    }
    setup.setClearEnv(launched->clear_env);
    setup.setCwd(launched->cwd);
    setup.setLimits(launched->limits);
    setup.setHeartbeatMs(static_cast<std::uint64_t>(std::max<std::int64_t>(0, launched->heartbeat.count())));
  }
  if (const auto& sandbox = selection.sandbox) {
    auto rules = select.initSandbox();
    set_texts(rules.initReadOnly(static_cast<unsigned>(sandbox->read_only.size())), sandbox->read_only);
    set_texts(rules.initReadWrite(static_cast<unsigned>(sandbox->read_write.size())), sandbox->read_write);
    rules.setNetwork(sandbox->network);
    rules.setExec(sandbox->exec);
    set_texts(rules.initAllowSyscalls(static_cast<unsigned>(sandbox->allow_syscalls.size())), sandbox->allow_syscalls);
    rules.setBestEffort(sandbox->best_effort);
  }
  channel.write(FrameKind::kSelect, 0, 0, message.getSegmentsForOutput());
}

Answer read_answer(Channel& channel, Channel::Clock::time_point deadline, const std::string& child) {
  Frame frame;
  do {
    switch (channel.read(frame, deadline, -1, "parent")) {
      case Channel::ReadStatus::kFrame:
        break;
      case Channel::ReadStatus::kTimeout:
        return {Answer::kTimeout, {}};
      default:
        return {Answer::kClosed, {}};
    }
    expect(frame.header.kind, Sender::kChild, Phase::kStart, "parent", child);
  } while (frame.header.kind == FrameKind::kHeartbeat);  // a launched child's constructor takes a while
  // The runtime, between the sandbox and Ready, called what the sandbox traps.
  if (frame.header.kind == FrameKind::kSandboxed) return {Answer::kClosed, {}, 0, frame.header.id};
  validate_message(frame, "parent");
  if (frame.header.kind != FrameKind::kReady) return {Answer::kFailure, std::move(frame.payload)};
  Reply reply(std::move(frame.payload));
  return {Answer::kReady, {}, static_cast<pid_t>(reply.root<wire::Ready>().getPid())};
}

std::optional<Frame> read_start_frame(Channel& channel, FrameKind kind, Channel::Clock::time_point deadline) {
  Frame frame;
  do {
    if (channel.read(frame, deadline, -1, side_name()) != Channel::ReadStatus::kFrame) return std::nullopt;
    expect(frame.header.kind, Sender::kParent, Phase::kStart, side_name(), "the parent");
  } while (frame.header.kind == FrameKind::kHeartbeat);
  if (frame.header.kind != kind) {  // Select comes first, then Construct
    throw ProtocolError(std::string("procxy: ") + side_name() + ": expected frame kind " + describe(kind) +
                        " to start, got " + describe(frame.header.kind));
  }
  validate_message(frame, side_name());
  return frame;
}

Selection decode_selection(Frame& frame) {
  Reply reply(std::move(frame.payload));
  auto select = reply.root<wire::Select>();
  Selection selection;
  selection.class_name = select.getClassName();
  selection.interface_hash = select.getInterfaceHash();
  selection.runtime_version = select.getRuntimeVersion();
  selection.concurrency = std::max(1u, select.getConcurrency());
  if (select.hasSharedSocket()) {
    selection.shared = SharedSetup{select.getSharedSocket(), select.getSharedLock(),
                                   std::chrono::milliseconds(select.getIdleExitMs())};
  }
  if (select.hasLaunched()) {
    auto setup = select.getLaunched();
    LaunchSetup launched;
    for (auto variable : setup.getEnv()) launched.env[variable.getName()] = variable.getValue();
    launched.clear_env = setup.getClearEnv();
    launched.cwd = setup.getCwd();
    launched.limits = setup.getLimits();
    launched.heartbeat = std::chrono::milliseconds(setup.getHeartbeatMs());
    selection.launched = std::move(launched);
  }
  if (select.hasSandbox()) {
    auto rules = select.getSandbox();
    selection.sandbox = SandboxSetup{
        texts_of(rules.getReadOnly()),      texts_of(rules.getReadWrite()), rules.getNetwork(), rules.getExec(),
        texts_of(rules.getAllowSyscalls()), rules.getBestEffort()};
  }
  return selection;
}

std::optional<Refusal> check(const Selection& selection, std::string_view served, std::uint64_t interface_hash,
                             const std::optional<SandboxSetup>& sandbox, pid_t peer) {
  std::string me = std::string("procxy: ") + side_name();
  std::string who = peer ? "process " + std::to_string(peer) : std::string("the parent");
  if (selection.class_name != served) {
    return Refusal{wire::Failure::Kind::UNKNOWN_CLASS, me + ": " + who + " asked for class '" + selection.class_name +
                                                           "', but this child serves '" + std::string(served) +
                                                           "'; give each class its own attach() name"};
  }
  if (selection.interface_hash != interface_hash || selection.runtime_version != PROCXY_VERSION) {
    return Refusal{wire::Failure::Kind::INTERFACE_MISMATCH,
                   me + ": interface mismatch for '" + selection.class_name + "': " + who +
                       " was built from another version of its header (or of procxy) than this child; rebuild " +
                       "both from the same sources" + (peer ? ", or attach under another name" : "")};
  }
  if (selection.sandbox != sandbox) {
    // Only a shared child meets this: a client that wants it confined
    // otherwise than it is must not get it as though it were.
    return Refusal{wire::Failure::Kind::SANDBOX, me + ": " + who + " attaches " +
                                                     sandbox_difference(selection.sandbox, sandbox) +
                                                     "; give every client the same Options::sandbox, or attach "
                                                     "under another name"};
  }
  return std::nullopt;
}

bool refuse(Channel& channel, const Refusal& refusal) {
  capnp::MallocMessageBuilder message;
  encode_failure(message, refusal.kind, refusal.text);
  return channel.write(FrameKind::kError, 0, 0, message.getSegmentsForOutput());
}

bool write_ready(Channel& channel) {
  capnp::MallocMessageBuilder message;
  message.initRoot<wire::Ready>().setPid(static_cast<std::int32_t>(::getpid()));
  return channel.write(FrameKind::kReady, 0, 0, message.getSegmentsForOutput());
}

}  // namespace procxy::detail
