// The public entry points that are not templates: handle operations, exit
// statuses, and the calls generated proxies make. What else generated code
// calls lives with its layer: messages in wire/reply.cpp and
// wire/outgoing_message.cpp, events in child/peers.cpp, classes in
// child/registry.cpp.

#include <string.h>

#include "parent/connection.h"
#include "process/supervisor.h"
#include "procxy/procxy.h"
#include "services/pool.h"

namespace procxy {

std::string ExitStatus::to_string() const {
  if (exit_code) return "exited with code " + std::to_string(*exit_code);
  if (signal) return "was killed by signal " + std::to_string(*signal) + " (" + strsignal(*signal) + ")";
  return "exited (status unknown: a shared child is not this process's to reap, or SIGCHLD is ignored here)";
}

std::vector<pid_t> children() { return detail::Supervisor::instance().live_children(); }

void Subscription::off() {
  auto hub = hub_.lock();
  if (!hub) return;
  hub->owner().check("subscription");
  hub->remove(id_);
}

bool Subscription::active() const {
  auto hub = hub_.lock();
  if (hub) hub->owner().check("subscription");
  return hub && hub->active(id_);
}

namespace detail {

pid_t ProxyBase::pid() const { return connection_->pid(); }
pid_t ProxyBase::remote_pid() const { return connection_->remote_pid(); }
// Everything but pid() and remote_pid() first checks that this process owns the connection
// (parent/owner.h): in a fork without exec, the proxy is inert.
bool ProxyBase::alive() const {
  connection_->owner().check("proxy");
  return connection_->alive();
}

void ProxyBase::terminate(std::chrono::milliseconds grace) const {
  connection_->owner().check("proxy");
  connection_->terminate(grace);
}

void ProxyBase::kill() const {
  connection_->owner().check("proxy");
  connection_->kill();
}

ExitStatus ProxyBase::wait() const {
  connection_->owner().check("proxy");
  return connection_->wait();
}

Subscription ProxyBase::on_exit(std::function<void(const ExitStatus&)> handler) const {
  connection_->owner().check("proxy");
  return Subscription(connection_->events(), connection_->on_exit(std::move(handler)));
}

Subscription ProxyBase::subscribe(EventListener&& listener, bool once) const {
  connection_->owner().check("proxy");
  return Subscription(connection_->events(), connection_->subscribe(std::move(listener), once));
}

PoolBase::PoolBase(std::shared_ptr<PoolCore> core) : core_(std::move(core)), target_(core_) {}

int PoolBase::size() const { return core_->size(); }

std::vector<pid_t> PoolBase::pids() const {
  core_->owner().check("pool");
  return core_->pids();
}

void PoolBase::terminate(std::chrono::milliseconds grace) const {
  core_->owner().check("pool");
  core_->terminate(grace);
}

void PoolBase::kill() const {
  core_->owner().check("pool");
  core_->kill();
}

Subscription PoolBase::subscribe(EventListener&& listener, bool once) const {
  core_->owner().check("pool");
  return Subscription(core_, core_->subscribe(std::move(listener), once));
}

std::vector<std::shared_ptr<Connection>> PoolBase::connections() const {
  core_->owner().check("pool");
  return core_->connections();
}

std::shared_ptr<CallTarget> call_target(const std::shared_ptr<Connection>& connection) { return connection; }

Words call(CallTarget& target, const CallOptions& options, const MethodInfo& method, capnp::MessageBuilder& params) {
  target.owner().check("proxy");
  return target.call(method, params, options);
}

void call_async(CallTarget& target, const CallOptions& options, const MethodInfo& method, capnp::MessageBuilder& params,
                Completion done) {
  try {
    target.owner().check("proxy");
  } catch (const Error&) {
    done(nullptr, std::current_exception());  // the error belongs in the future
    return;
  }
  target.call_async(method, params, options, std::move(done));
}

void reject_reply(CallTarget& target, std::exception_ptr error) { target.reject(error); }

void not_an_event(std::string_view class_name) {
  throw Error("procxy: parent: the member passed to Proxy<" + std::string(class_name) +
              ">::on()/once() is a method, not a PROCXY_EVENT; subscribe to an event of the class");
}

}  // namespace detail
}  // namespace procxy
