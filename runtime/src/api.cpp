// The public entry points that are not templates: handle operations, exit
// statuses, and what generated code calls.

#include <string.h>
#include <unistd.h>

#include "parent/connection.h"
#include "process/supervisor.h"
#include "procxy/procxy.h"
#include "side.h"
#include "wire/message.h"

namespace procxy {

std::string ExitStatus::to_string() const {
  if (exit_code) return "exited with code " + std::to_string(*exit_code);
  if (signal) return "was killed by signal " + std::to_string(*signal) + " (" + strsignal(*signal) + ")";
  return "exited (status unknown: a shared child is not this process's to reap, or SIGCHLD is ignored here)";
}

std::vector<pid_t> children() { return detail::Supervisor::instance().live_children(); }

void Subscription::off() {
  if (auto hub = hub_.lock()) hub->remove(id_);
}

bool Subscription::active() const {
  auto hub = hub_.lock();
  return hub && hub->active(id_);
}

namespace detail {

pid_t ProxyBase::pid() const { return connection_->pid(); }
bool ProxyBase::alive() const { return connection_->alive(); }
void ProxyBase::terminate(std::chrono::milliseconds grace) const { connection_->terminate(grace); }
void ProxyBase::kill() const { connection_->kill(); }
ExitStatus ProxyBase::wait() const { return connection_->wait(); }

Subscription ProxyBase::on_exit(std::function<void(const ExitStatus&)> handler) const {
  return Subscription(connection_->events(), connection_->on_exit(std::move(handler)));
}

Subscription ProxyBase::subscribe(EventListener&& listener, bool once) const {
  return Subscription(connection_->events(), connection_->subscribe(std::move(listener), once));
}

void wire_size_exceeded(std::size_t size, const char* what) {
  throw Error(std::string("procxy: ") + side_name() + ": a " + what + " of " + std::to_string(size) +
              " elements is larger than Cap'n Proto's limit of " + std::to_string(kMaxWireElements) +
              " per blob or list; split it across calls, or pass large data through a file");
}

Reply::Reply(Words words) : words_(std::move(words)), reader_(words_.asPtr(), reader_options(words_.size())) {}

void Reply::malformed(const char* what, const char* why) {
  if (in_child()) throw ProtocolError(std::string("procxy: ") + side_name() + ": a message for " + what + " is malformed: " + why);
  throw ProtocolError("procxy: parent: the reply to " + std::string(what) + " is malformed: " + why +
                      "; parent and child must be built from the same procxy and header");
}

Words call(Connection& connection, const CallOptions& options, const MethodInfo& method,
           capnp::MessageBuilder& params) {
  return connection.call(method, params, options);
}

void call_async(Connection& connection, const CallOptions& options, const MethodInfo& method,
                capnp::MessageBuilder& params, Completion done) {
  connection.call_async(method, params, options, std::move(done));
}

void not_an_event(std::string_view class_name) {
  throw Error("procxy: parent: the member passed to Proxy<" + std::string(class_name) +
              ">::on()/once() is a method, not a PROCXY_EVENT; subscribe to an event of the class");
}

void unknown_method(std::string_view class_name, std::uint16_t ordinal) {
  throw ProtocolError(std::string("procxy: ") + side_name() + ": " + std::string(class_name) +
                      " has no method form " + std::to_string(ordinal) +
                      "; the parent was built from a different interface");
}

}  // namespace detail
}  // namespace procxy
