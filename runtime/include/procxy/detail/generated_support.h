#pragma once

// What generated *.procxy.cpp files use from the runtime, and nothing else:
// marshalling, the call entry points, events and class registration. A
// generated *.procxy.h includes only generated_declarations.h. Not for direct
// use by applications.
//
// A generated proxy body is one call into the templates below, invoke<Form>()
// or invoke_async<Form>(), with the method's own parameters. Form is the
// generated struct of one method form: its MethodInfo kInfo, its
// encode(message, args...) and its decode(Words). Arguments are passed on as
// the references they are, so that encode() may refer to a caller's large
// byte vector instead of copying it (see put()).

#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "procxy/detail/generated_declarations.h"
#include "procxy/detail/marshal.h"
#include "procxy/detail/message.h"
#include "procxy/procxy.h"

namespace procxy::detail {

// A method form as the wire knows it.
struct MethodInfo {
  std::uint16_t ordinal;
  const char* name;        // "demo::Calculator::add", for messages
  bool query;              // PROCXY_QUERY / PROCXY_CACHE
  std::uint32_t cache_ms;  // PROCXY_CACHE(ms); 0: results are not cached
};

// Sends the call and blocks for its result. Throws the errors of SPEC §3.
PROCXY_EXPORT Words call(CallTarget& target, const CallOptions& options, const MethodInfo& method,
                         capnp::MessageBuilder& params);

// The parent found the child's reply malformed as it decoded it
// (ProtocolError): a private child is killed, a shared child's connection
// closed, and later calls fail with that error, as for a malformed frame.
PROCXY_EXPORT void reject_reply(CallTarget& target, std::exception_ptr error);

// Sends the call and returns; `done` runs once, on a runtime thread, with the
// result or the error. A `done` that finds the result malformed settles its
// caller with the ProtocolError and then throws it, for reject_reply().
using Completion = std::function<void(Words* result, std::exception_ptr error)>;
PROCXY_EXPORT void call_async(CallTarget& target, const CallOptions& options, const MethodInfo& method,
                              capnp::MessageBuilder& params, Completion done);

template <class R>
std::future<R> call_async(CallTarget& target, const CallOptions& options, const MethodInfo& method,
                          capnp::MessageBuilder& params, R (*decode)(Words)) {
  auto promise = std::make_shared<std::promise<R>>();
  auto future = promise->get_future();
  call_async(target, options, method, params, [promise, decode](Words* result, std::exception_ptr error) {
    if (error) return promise->set_exception(error);
    try {
      if constexpr (std::is_void_v<R>) {
        decode(std::move(*result));
        promise->set_value();
      } else {
        promise->set_value(decode(std::move(*result)));
      }
    } catch (const ProtocolError&) {
      promise->set_exception(std::current_exception());
      throw;  // the runtime rejects the reply
    } catch (...) {
      promise->set_exception(std::current_exception());
    }
  });
  return future;
}

// The body of a generated Methods<T> method: encodes the arguments, calls and
// decodes the result. The message is sent before the arguments go.
template <class Form, class... Args>
auto invoke(const MethodsBase& methods, Args&&... args) {
  OutgoingMessage message;
  Form::encode(message, std::forward<Args>(args)...);
  Words result = call(methods.procxy_target(), methods.procxy_call_options(), Form::kInfo, message);
  try {
    return Form::decode(std::move(result));
  } catch (const ProtocolError&) {
    reject_reply(methods.procxy_target(), std::current_exception());
    throw;
  }
}

// The body of a generated AsyncMethods<T> method: encodes the arguments and
// returns the future of the decoded result. call_async() is done with the
// message when it returns (it copies one it may send again), so the message
// may refer to the arguments.
template <class Form, class... Args>
auto invoke_async(const MethodsBase& methods, Args&&... args) {
  OutgoingMessage message;
  Form::encode(message, std::forward<Args>(args)...);
  return call_async(methods.procxy_target(), methods.procxy_call_options(), Form::kInfo, message, &Form::decode);
}

inline void destroy_message(capnp::MallocMessageBuilder* message) { delete message; }

// The body of a generated ClassTraits<T>::construct(): the constructor form
// and its encoded arguments. The message outlives the arguments, so encode()
// copies them all.
template <class Form, class... Args>
Construction construction(Args&&... args) {
  Construction construction{Form::kOrdinal, {new capnp::MallocMessageBuilder(), {&destroy_message}}};
  Form::encode(*construction.message, std::forward<Args>(args)...);
  return construction;
}

// A PROCXY_EVENT as the wire knows it.
struct EventInfo {
  std::uint16_t ordinal;  // in declaration order among the class's events
  const char* name;       // "demo::Calculator::progress", for messages
};

// True in a child, for the object it serves, once the parent has subscribed to
// `event`: only then is an event encoded and sent.
PROCXY_EXPORT bool emitting(const void* object, const EventInfo& event);

// Sends the event to the parent at once, from the calling thread; silently
// dropped when the parent is gone. Throws procxy::Error when the parameters
// exceed the frame size limit.
PROCXY_EXPORT void emit(const EventInfo& event, capnp::MessageBuilder& params);

// The body of a generated event: encodes and sends the event when emitting()
// says the parent listens; does nothing otherwise.
template <class Form, class... Args>
void emit_event(const void* object, Args&&... args) {
  if (!emitting(object, Form::kInfo)) return;
  OutgoingMessage message;
  Form::encode(message, std::forward<Args>(args)...);
  emit(Form::kInfo, message);
}

// Raised by a generated listen() for a member pointer that is a method of the
// right type but not an event.
[[noreturn]] PROCXY_EXPORT void not_an_event(std::string_view class_name);

// The child side of a class, registered by generated code at static
// initialization.
struct ClassEntry {
  std::string_view name;
  std::uint64_t interface_hash;
  void* (*construct)(std::uint16_t ordinal, Reply& params);
  void (*destroy)(void* object);
  void (*dispatch)(void* object, std::uint16_t ordinal, Reply& params, OutgoingMessage& results);
};
PROCXY_EXPORT bool register_class(const ClassEntry& entry);

// Raised by a generated stub for an ordinal it does not know.
[[noreturn]] PROCXY_EXPORT void unknown_method(std::string_view class_name, std::uint16_t ordinal);

}  // namespace procxy::detail
