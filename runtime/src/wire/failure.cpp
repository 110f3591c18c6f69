#include "wire/failure.h"

#include <unistd.h>

namespace procxy::detail {
namespace {

// A SpawnError that also carries the constructor's exception.
class RemoteSpawnError : public SpawnError, public RemoteError {
 public:
  RemoteSpawnError(const std::string& what, RemoteError remote) : SpawnError(what), RemoteError(std::move(remote)) {}
};

template <class Std>
std::exception_ptr remote_std(const std::string& what, RemoteError remote) {
  return std::make_exception_ptr(RemoteStd<Std>(what, std::move(remote)));
}

// The standard types SPEC §3 rethrows as themselves, most derived first.
std::exception_ptr rethrow_as(const std::string& type, const std::string& what, RemoteError remote) {
  if (type == "std::invalid_argument") return remote_std<std::invalid_argument>(what, std::move(remote));
  if (type == "std::domain_error") return remote_std<std::domain_error>(what, std::move(remote));
  if (type == "std::length_error") return remote_std<std::length_error>(what, std::move(remote));
  if (type == "std::out_of_range") return remote_std<std::out_of_range>(what, std::move(remote));
  if (type == "std::logic_error") return remote_std<std::logic_error>(what, std::move(remote));
  if (type == "std::range_error") return remote_std<std::range_error>(what, std::move(remote));
  if (type == "std::overflow_error") return remote_std<std::overflow_error>(what, std::move(remote));
  if (type == "std::underflow_error") return remote_std<std::underflow_error>(what, std::move(remote));
  if (type == "std::runtime_error") return remote_std<std::runtime_error>(what, std::move(remote));
  return std::make_exception_ptr(RemoteException(what, std::move(remote)));
}

}  // namespace

void encode_failure(capnp::MessageBuilder& message, wire::Failure::Kind kind, std::string_view text) {
  auto failure = message.initRoot<wire::Failure>();
  failure.setKind(kind);
  failure.setMessage(capnp::Text::Reader(text.data(), text.size()));
  failure.setPid(static_cast<std::int32_t>(getpid()));
}

void encode_exception(capnp::MessageBuilder& message, std::string_view type_name, std::string_view what,
                      std::string_view stack) {
  auto failure = message.initRoot<wire::Failure>();
  failure.setKind(wire::Failure::Kind::EXCEPTION);
  failure.setPid(static_cast<std::int32_t>(getpid()));
  failure.setTypeName(capnp::Text::Reader(type_name.data(), type_name.size()));
  failure.setMessage(capnp::Text::Reader(what.data(), what.size()));
  failure.setStack(capnp::Text::Reader(stack.data(), stack.size()));
}

std::exception_ptr to_exception(Words words, FailureContext context, const std::string& what, pid_t pid) {
  std::string type, text, stack;
  wire::Failure::Kind kind;
  try {
    Reply reply(std::move(words));
    auto failure = reply.root<wire::Failure>();
    kind = failure.getKind();
    type = failure.getTypeName();
    text = failure.getMessage();
    stack = failure.getStack();
  } catch (const std::exception& e) {
    return std::make_exception_ptr(ProtocolError("procxy: parent: the failure report of child " + std::to_string(pid) +
                                                 " for " + what + " cannot be decoded: " + e.what()));
  }
  std::string where = "child " + std::to_string(pid);
  if (kind == wire::Failure::Kind::EXCEPTION) {
    RemoteError remote(type, text, stack);
    if (context == FailureContext::kStart) {
      return std::make_exception_ptr(RemoteSpawnError(
          "procxy: " + where + ": the constructor of " + what + " threw " + type + ": " + text, std::move(remote)));
    }
    return rethrow_as(type, "procxy: " + where + ": " + what + " threw " + type + ": " + text, std::move(remote));
  }
  if (kind == wire::Failure::Kind::PROTOCOL) return std::make_exception_ptr(ProtocolError(text));
  // unknownClass, interfaceMismatch, missingServeIfChild, limits: the child wrote the
  // whole explanation.
  return std::make_exception_ptr(SpawnError(text));
}

}  // namespace procxy::detail
