// The calling side of a Connection: planning a call, the one retry loop,
// restarts, the child's lifecycle and subscriptions. delivery.cpp has the
// reading side.

#include "parent/connection.h"

#include <signal.h>

#include <algorithm>
#include <stdexcept>
#include <stop_token>
#include <utility>

#include "log.h"
#include "parent/exit_reason.h"
#include "process/resident.h"
#include "process/supervisor.h"
#include "sandbox_death.h"

namespace procxy::detail {
namespace {

constexpr auto kGraceOnRelease = std::chrono::seconds(1);

long long ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// Whether a query that failed with `error` may be sent again: after a timeout,
// or after the child's death when a restarted child can take it.
bool worth_retrying(const std::exception_ptr& error, bool restart) {
  try {
    std::rethrow_exception(error);
  } catch (const TimeoutError&) {
    return true;
  } catch (const ChildExitedError&) {
    return restart;
  } catch (...) {
    return false;
  }
}

}  // namespace

Connection::Connection(ChildRecipe recipe, StartFunction start, Link link)
    : recipe_(std::move(recipe)),
      start_(std::move(start)),
      heartbeat_(recipe_.options.launcher.empty() ? std::chrono::milliseconds(0) : recipe_.options.heartbeat),
      link_(std::make_shared<Link>(std::move(link))),
      restart_budget_(recipe_.options.restart_policy) {}

std::shared_ptr<Connection> Connection::create(ChildRecipe recipe, StartFunction start, Link link) {
  return std::shared_ptr<Connection>(new Connection(std::move(recipe), std::move(start), std::move(link)),
                                     [](Connection* connection) {
                                       // Leaked on purpose in a fork without exec: its destructor would
                                       // tell the other process's child to exit, join threads that do not
                                       // exist here, and take mutexes they may have held at the fork.
                                       if (connection->owner_.here()) delete connection;
                                     });
}

void Connection::start() {
  // A full event queue stopped the reading; whoever reads next goes on. The
  // hub calls this on its thread, which the destructor joins (stop()) before
  // this connection goes.
  events_->on_room([this] {
    MutexLock lock(mutex_);
    hand_on_role();
  });
  events_->on_malformed([this](std::exception_ptr error) { reject(error); });
  if (heartbeat_.count() > 0) start_helper();  // a link with heartbeats is always read
  MutexLock lock(mutex_);
  install(link_);
  hand_on_role();
}

void Connection::install(std::shared_ptr<Link> link) {
  link_ = std::move(link);
  channel_closed_ = false;
  exit_status_.reset();
  exit_to_announce_.reset();
  protocol_error_ = nullptr;
  over_limit_.clear();
  link_lost_.clear();
  sandboxed_.reset();
  cache_.clear();  // results of the object that died
  std::weak_ptr<Connection> self = weak_from_this();
  // The handler runs at once when the child has already exited: not under our lock.
  auto process = link_->process;
  std::weak_ptr<Link> weak_link = link_;
  // A restarted child hears of the subscriptions before any call.
  for (std::uint16_t ordinal : subscribed_) link_->channel->write(FrameKind::kSubscribe, ordinal, 0);
  Unlocked unlocked(mutex_);
  process->on_exit([self, weak_link](const ExitStatus& status) {
    auto connection = self.lock();
    auto link = weak_link.lock();
    if (connection && link) connection->on_child_exit(link, status);
  });
}

Connection::~Connection() {
  std::shared_ptr<Link> link;
  {
    MutexLock lock(mutex_);
    stopping_ = true;
    terminated_ = true;
    link = link_;
    fail_all(&Connection::abandoned_error);
    reader_.helper_cv().notify_all();
  }
  wake_.wake();
  if (helper_.joinable()) helper_.join();
  events_->stop();
  if (!link->process->exited()) {
    // Polite first: the child destroys its object and exits. The supervisor
    // kills it if it has not after the grace period; nobody waits here. A
    // shared child only hears that this client leaves.
    link->channel->write(FrameKind::kShutdown, 0, 0);
    if (link->process->own()) Supervisor::instance().kill_at(link->process, Clock::now() + kGraceOnRelease);
  }
}

pid_t Connection::pid() const {
  MutexLock lock(mutex_);
  return link_->process->pid();
}

pid_t Connection::remote_pid() const {
  MutexLock lock(mutex_);
  return link_->remote_pid;
}

bool Connection::alive() const {
  MutexLock lock(mutex_);
  // A shared child's connection can end while it lives on; then it is gone for us.
  bool connected = link_->process->own() || !channel_closed_;
  return !terminated_ && !exit_status_ && !link_->process->exited() && connected;
}

ExitStatus Connection::wait() const {
  std::shared_ptr<Link> link;
  {
    MutexLock lock(mutex_);
    link = link_;
  }
  return link->process->wait();
}

std::uint64_t Connection::on_exit(std::function<void(const ExitStatus&)> handler) {
  MutexLock lock(mutex_);
  return events_->add_exit(std::move(handler), exit_status_);
}

Attempt Connection::first_attempt(const MethodInfo& method) const {
  return {1, method.query ? 1 + std::max(0, recipe_.options.retries) : 1};
}

bool Connection::retry(const MethodInfo& method, Attempt& attempt, const std::exception_ptr& error, bool restart) {
  if (attempt.number == attempt.of || !worth_retrying(error, restart)) return false;
  ++attempt.number;
  log(LogCategory::kCall, "retrying query %s (attempt %d of %d)", method.name, attempt.number, attempt.of);
  return true;
}

Connection::Plan Connection::timed(const CallOptions& options) const {
  Plan plan;
  if (options.timeout) {
    if (options.timeout->count() < 0) {
      throw std::invalid_argument("procxy: parent: CallOptions::timeout is " +
                                  std::to_string(options.timeout->count()) +
                                  " ms; it must be positive, or zero for no limit");
    }
    plan.timeout = *options.timeout;
    plan.timeout_from = "CallOptions::timeout";
  } else {
    plan.timeout = recipe_.options.timeout;
  }
  return plan;
}

Connection::Clock::time_point Connection::deadline_for(const Plan& plan) {
  return plan.timeout.count() == 0 ? Clock::time_point::max() : Clock::now() + plan.timeout;
}

std::exception_ptr Connection::closed_error(const MethodInfo& method) const {
  std::string what = std::string(method.name) + " on " + child_name();
  if (terminated_) {
    return std::make_exception_ptr(
        TerminatedError("procxy: parent: " + what + " failed: the proxy was terminated by the parent"));
  }
  if (protocol_error_) return protocol_error_;
  if (!gave_up_.empty()) return gave_up_error(method);
  std::string next = recipe_.options.restart ? "the next call starts a new child" : "spawn a new proxy to continue";
  if (!link_lost_.empty()) {
    return std::make_exception_ptr(ChildExitedError("procxy: parent: " + what + " failed: " + link_lost_ + "; " + next,
                                                    std::nullopt, std::nullopt));
  }
  if (!over_limit_.empty()) {
    return std::make_exception_ptr(ChildExitedError("procxy: parent: " + what +
                                                        " failed: the child was ended: " + over_limit_ +
                                                        "; spawn a new proxy to continue (with Options::restart, "
                                                        "such a child is replaced instead)",
                                                    std::nullopt, std::nullopt));
  }
  if (!link_->process->own() && !exit_status_) {
    return std::make_exception_ptr(
        ChildExitedError("procxy: parent: " + what + " failed: the shared child '" + recipe_.shared_name +
                             "' closed the connection (it exited, or dropped this client; its log says which); " +
                             (recipe_.options.restart ? "the next call attaches again" : "attach again to continue"),
                         std::nullopt, std::nullopt));
  }
  ExitStatus status = exit_status_.value_or(ExitStatus{});
  if (sandboxed_ || (recipe_.options.sandbox.enabled && status.exit_code == kExitSandboxed)) {
    return std::make_exception_ptr(ChildExitedError(
        "procxy: parent: " + what + " failed: " + sandbox_kill_text(sandboxed_ ? &*sandboxed_ : nullptr) + "; " + next,
        status.exit_code, status.signal));
  }
  if (!recipe_.options.launcher.empty()) {
    return std::make_exception_ptr(
        ChildExitedError("procxy: parent: " + what + " failed: " + launcher_ending(status) + "; " + next,
                         status.exit_code, status.signal));
  }
  std::string reason = limit_reason(status, recipe_.options.limits);
  return std::make_exception_ptr(ChildExitedError("procxy: parent: " + what + " failed: the child " +
                                                      status.to_string() + (reason.empty() ? "" : ": " + reason) +
                                                      "; " + next,
                                                  status.exit_code, status.signal));
}

std::string Connection::child_name() const {
  std::string pid = std::to_string(link_->process->pid());
  if (recipe_.options.launcher.empty()) return "child " + pid;
  return "child " + std::to_string(link_->remote_pid) + " through '" + recipe_.options.launcher.front() + "' (pid " +
         pid + ")";
}

std::string Connection::launcher_ending(const ExitStatus& status) const {
  // The launcher's exit says little: ssh exits with the child's code, or
  // 255 when the child died by a signal or the connection broke.
  std::string said = link_->process->stderr_tail();
  return "the launcher '" + recipe_.options.launcher.front() + "' " + status.to_string() +
         ": the child on the other side ended, or the link to it was lost" +
         (said.empty() ? std::string() : "; the launcher's stderr ends:\n" + said.substr(0, said.size() - 1));
}

std::exception_ptr Connection::gave_up_error(const MethodInfo& method) const {
  return std::make_exception_ptr(ChildExitedError(
      "procxy: parent: " + std::string(method.name) + " failed: procxy gave up restarting " + recipe_.class_name +
          " after " + restart_budget_.describe() + "; " + gave_up_ +
          "; fix what makes it die (its stderr says why) or raise Options::restart_policy.max_restarts, "
          "then spawn a new proxy",
      exit_status_ ? exit_status_->exit_code : std::nullopt, exit_status_ ? exit_status_->signal : std::nullopt));
}

std::exception_ptr Connection::abandoned_error(const MethodInfo& method) const {
  return std::make_exception_ptr(TerminatedError("procxy: parent: " + std::string(method.name) +
                                                 " was abandoned: the last proxy handle was destroyed"));
}

std::exception_ptr Connection::protocol_failure(const MethodInfo&) const { return protocol_error_; }

std::exception_ptr Connection::cancelled_error(const MethodInfo& method) const {
  return std::make_exception_ptr(CancelledError("procxy: parent: " + std::string(method.name) +
                                                " was cancelled by its stop token; the child stops it only if "
                                                "every caller sharing the request cancelled"));
}

std::exception_ptr Connection::timeout_error(const Request& request, Clock::duration waited) const {
  const MethodInfo& method = *request.method;
  std::string attempts;
  if (request.attempts > 1) {
    attempts = "attempt " + std::to_string(request.attempt) + " of " + std::to_string(request.attempts) +
               " (a query is re-sent up to Options::retries = " + std::to_string(request.attempts - 1) + " times)";
  } else if (method.query) {
    attempts = "its only attempt (Options::retries is 0)";
  } else {
    attempts = "its only attempt (not a PROCXY_QUERY, so never re-sent)";
  }
  std::string after =
      recipe_.options.kill_on_timeout ? "the child was killed (Options::kill_on_timeout)" : "the child keeps running";
  log(LogCategory::kCall, "timeout: %s after %lld ms, limit %lld ms (%s), %s", method.name, ms(waited),
      static_cast<long long>(request.timeout.count()), request.timeout_from, attempts.c_str());
  return std::make_exception_ptr(TimeoutError("procxy: parent: " + std::string(method.name) + " on " + child_name() +
                                              " timed out: no reply within its limit of " +
                                              std::to_string(request.timeout.count()) + " ms (" + request.timeout_from +
                                              "), on " + attempts + ", after " + std::to_string(ms(waited)) + " ms; " +
                                              after + " (raise " + request.timeout_from + " if it needs longer)"));
}

std::shared_ptr<Link> Connection::usable_link(MutexLock& lock, const MethodInfo& method) {
  for (;;) {
    if (terminated_) std::rethrow_exception(closed_error(method));
    if (restarting_) {
      restarted_cv_.wait(lock.native());
      continue;
    }
    if (!gave_up_.empty()) std::rethrow_exception(gave_up_error(method));
    bool retired = !over_limit_.empty();
    bool lost = !link_lost_.empty();
    if (!exit_status_ && !protocol_error_ && !channel_closed_ && !retired && !lost) return link_;
    bool shared = !link_->process->own();
    if (!recipe_.options.restart) {
      // The channel closed but the child is not reaped yet: its exit, moments
      // away, fails the call with the exit status. (A shared child's is not
      // ours to see: the closed channel is the end.)
      if (!exit_status_ && !protocol_error_ && !shared && !retired && !lost) return link_;
      std::rethrow_exception(closed_error(method));
    }
    // A child retired over a limit did not die: its replacement is not a
    // restart the policy counts.
    std::optional<Clock::duration> backoff = Clock::duration::zero();
    if (!retired) backoff = restart_budget_.take(Clock::now());
    if (!backoff) {
      gave_up_ = last_restart_failure_.empty() ? "the last child " + exit_status_.value_or(ExitStatus{}).to_string()
                                               : "the last restart failed: " + last_restart_failure_;
      log(LogCategory::kCall, "gave up restarting %s after %s", recipe_.class_name.c_str(),
          restart_budget_.describe().c_str());
      std::rethrow_exception(gave_up_error(method));
    }
    restarting_ = true;
    if (*backoff > Clock::duration::zero()) {
      log(LogCategory::kCall, "restarting %s in %lld ms (Options::restart_policy.backoff)", recipe_.class_name.c_str(),
          ms(*backoff));
      // terminate() cuts the wait short.
      restarted_cv_.wait_for(lock.native(), *backoff, [this]() PROCXY_REQUIRES(mutex_) { return terminated_; });
      if (terminated_) {
        restarting_ = false;
        restarted_cv_.notify_all();
        continue;
      }
    }
    std::shared_ptr<Link> old = link_;
    std::shared_ptr<Link> fresh;
    std::exception_ptr failure;
    {
      Unlocked unlocked(mutex_);
      try {
        if (!shared) {
          // A child retired over a limit finishes its calls first, within
          // their time limit; then it is killed.
          auto timeout = std::max<std::chrono::milliseconds>(recipe_.options.timeout, kGraceOnRelease);
          if (retired) Supervisor::instance().kill_at(old->process, Clock::now() + timeout);
          old->process->wait();  // reaped soon: it closed its channel, and lingering gets it killed
        }
        fresh = std::make_shared<Link>(start_(recipe_));
      } catch (...) {
        failure = std::current_exception();
      }
    }
    if (fresh && terminated_) {
      // terminate() or kill() came meanwhile, and waits for this one too.
      Unlocked unlocked(mutex_);
      fresh->process->signal(SIGKILL);
      fresh->process->wait();
    }
    restarting_ = false;
    restarted_cv_.notify_all();
    if (failure) {
      log(LogCategory::kCall, "restarting %s after child %d died failed", recipe_.class_name.c_str(),
          static_cast<int>(old->process->pid()));
      try {
        std::rethrow_exception(failure);
      } catch (const std::exception& e) {
        last_restart_failure_ = e.what();
      } catch (...) {
        last_restart_failure_ = "an exception that is not a std::exception";
      }
      std::rethrow_exception(failure);
    }
    last_restart_failure_.clear();
    if (terminated_) continue;
    log(LogCategory::kCall, "restarted %s: child %d replaces child %d", recipe_.class_name.c_str(),
        static_cast<int>(fresh->process->pid()), static_cast<int>(old->process->pid()));
    install(std::move(fresh));
  }
}

void Connection::check_resident_memory(const MethodInfo& method) {
  const std::optional<std::uint64_t>& limit = recipe_.options.limits.max_rss;
  if (!limit) return;
  std::shared_ptr<Link> link;
  {
    MutexLock lock(mutex_);
    if (!link_->process->own() || !over_limit_.empty()) return;
    link = link_;
  }
  std::optional<std::uint64_t> resident = resident_bytes(link->process->pid());
  if (!resident || *resident <= *limit) return;
  {
    MutexLock lock(mutex_);
    if (link != link_ || !over_limit_.empty()) return;
    over_limit_ = "its resident memory was " + std::to_string(*resident) + " bytes after " + method.name +
                  " returned, over Options::limits.max_rss = " + std::to_string(*limit);
  }
  log(LogCategory::kCall, "child %d: %lld resident bytes, over Options::limits.max_rss: asked to exit",
      static_cast<int>(link->process->pid()), static_cast<long long>(*resident));
  // It exits once its calls are done; the next call replaces it (Options::restart) or fails.
  link->channel->write(FrameKind::kShutdown, 0, 0);
}

Connection::Plan Connection::plan(const MethodInfo& method, capnp::MessageBuilder& params,
                                  const CallOptions& options) const {
  Plan plan = timed(options);
  if (!method.query) return plan;
  bool fresh = options.coalesce == false;  // the caller asked for a request of its own
  plan.coalesce = !fresh && options.coalesce.value_or(recipe_.options.coalesce);
  plan.cached = !fresh && method.cache_ms > 0;
  // A forced-fresh result still refreshes the cache, so cached methods always get a key.
  if (plan.coalesce || method.cache_ms > 0) plan.key = query_key(method, params);
  return plan;
}

std::optional<Words> Connection::cached_result(const MethodInfo& method, const Plan& plan) {
  if (!plan.cached) return std::nullopt;
  std::optional<Words> hit;
  {
    MutexLock lock(mutex_);
    hit = cache_.find(plan.key, Clock::now());
  }
  if (hit) log(LogCategory::kCoalesce, "cache hit: %s", method.name);
  return hit;
}

std::uint64_t Connection::enlist(const MethodInfo& method, FrameKind kind, Segments segments, const Plan& plan,
                                 Caller& caller, Clock::time_point& deadline, Attempt attempt) {
  if (std::size_t size = Channel::payload_bytes(segments); size > kMaxFrameSize) {
    throw frame_too_large(size, "procxy: parent: the arguments of " + std::string(method.name));
  }
  std::uint64_t id;
  std::shared_ptr<Link> link;
  {
    MutexLock lock(mutex_);
    link = usable_link(lock, method);
    if (auto joined = plan.coalesce ? requests_.join(plan.key, caller) : std::nullopt) {
      deadline = requests_.find(*joined)->deadline;
      log(LogCategory::kCoalesce, "coalesce hit: %s joins call %llu", method.name,
          static_cast<unsigned long long>(*joined));
      return *joined;
    }
    Request request;
    request.first = std::move(caller);
    request.start = Clock::now();
    request.deadline = deadline;
    request.method = &method;
    request.attempt = attempt.number;
    request.attempts = attempt.of;
    request.timeout = plan.timeout;
    request.timeout_from = plan.timeout_from;
    request.key = plan.key;
    id = requests_.add(std::move(request), plan.coalesce);
    if (channel_closed_) return id;
  }
  log(LogCategory::kCall, "call %llu %s -> child %d", static_cast<unsigned long long>(id), method.name,
      static_cast<int>(link->process->pid()));
  // A failed write means the child is gone; its exit fails the call.
  link->channel->write(kind, method.ordinal, id, segments);
  return id;
}

Words Connection::call(const MethodInfo& method, capnp::MessageBuilder& params, const CallOptions& options) {
  Plan how = plan(method, params, options);
  if (auto hit = cached_result(method, how)) return std::move(*hit);
  for (Attempt attempt = first_attempt(method);;) {
    try {
      return call_once(method, params, options, how, attempt);
    } catch (...) {
      if (!retry(method, attempt, std::current_exception(), recipe_.options.restart)) throw;
    }
  }
}

Words Connection::call_once(const MethodInfo& method, capnp::MessageBuilder& params, const CallOptions& options,
                            const Plan& plan, Attempt attempt) {
  if (options.stop.stop_requested()) std::rethrow_exception(cancelled_error(method));
  Waiter waiter;
  waiter.deadline = deadline_for(plan);
  Caller caller;
  caller.waiter = &waiter;
  caller.from_delivery_thread = events_->on_delivery_thread();
  std::uint64_t id =
      enlist(method, FrameKind::kCall, params.getSegmentsForOutput(), plan, caller, waiter.deadline, attempt);

  std::optional<std::stop_callback<std::function<void()>>> on_stop;
  if (options.stop.stop_possible()) {
    on_stop.emplace(options.stop, std::function<void()>([this, &waiter] {
                      MutexLock lock(mutex_);
                      waiter.cancelled = true;
                      waiter.cv.notify_one();
                      wake_.wake();
                    }));
  }
  return await(waiter, id, method, options.stop.stop_possible());
}

Words Connection::await(Waiter& waiter, std::uint64_t id, const MethodInfo& method, bool stoppable) {
  EventHub::Waiting waiting(*events_);  // a listener's call reads despite a full queue
  MutexLock lock(mutex_);
  while (!waiter.done) {
    if (waiter.deferred) {  // settled; the events before it are being delivered
      waiter.cv.wait(lock.native());
      continue;
    }
    if (waiter.cancelled) break;
    if (!channel_closed_ && !events_->full() && reader_.try_take()) {
      std::shared_ptr<Link> link = link_;
      lock.unlock();
      // Only a stop token needs to end this caller's wait early: without
      // one, the read blocks in recv() with no poll() first.
      Read result = read_and_deliver(link, std::min(waiter.deadline, next_async_deadline()), stoppable);
      lock.lock();
      release_role(result, link);
    } else {
      reader_.add_idle(waiter);
      waiter.cv.wait_until(lock.native(), waiter.deadline);
      reader_.remove_idle(waiter);
    }
    if (waiter.waiting() && Clock::now() >= waiter.deadline) {
      expire(id);  // settles this waiter (and those who share its request) with the timeout
    }
  }
  hand_on_role();      // this caller may have been woken to read, and leaves
  if (!waiter.done) {  // cancelled, and still waiting: nobody will touch the waiter again
    leave(id, [&waiter](const Caller& c) { return c.waiter == &waiter; });
    lock.unlock();
    std::rethrow_exception(cancelled_error(method));
  }
  lock.unlock();
  if (waiter.error) std::rethrow_exception(waiter.error);
  return std::move(waiter.result);
}

void Connection::call_async(const MethodInfo& method, capnp::MessageBuilder& params, const CallOptions& options,
                            Completion given) {
  // The connection outlives the completion: its destructor joins the
  // helper thread and runs the delivery thread's last completions first.
  Completion done = [this, given = std::move(given)](Words* result, std::exception_ptr error) {
    try {
      given(result, error);
    } catch (const ProtocolError&) {
      reject(std::current_exception());  // the caller has the error already
    }
  };
  Plan how = plan(method, params, options);
  if (auto hit = cached_result(method, how)) return done(&*hit, nullptr);
  Attempt attempt = first_attempt(method);
  std::shared_ptr<capnp::MessageBuilder> copy;
  if (attempt.of > 1) {
    // A query may be sent again after the caller's message is gone: keep a copy.
    auto message = std::make_shared<capnp::MallocMessageBuilder>();
    message->getRoot<capnp::AnyPointer>().set(params.getRoot<capnp::AnyPointer>().asReader());
    copy = std::move(message);
  } else {
    // Sent once, now: no copy (the deleter does not own the caller's message).
    copy = std::shared_ptr<capnp::MessageBuilder>(&params, [](capnp::MessageBuilder*) {});
  }
  call_async_attempt(method, std::move(copy), options, std::move(how), std::move(done), attempt);
}

void Connection::call_async_attempt(const MethodInfo& method, std::shared_ptr<capnp::MessageBuilder> params,
                                    const CallOptions& options, Plan plan, Completion done, Attempt attempt) {
  if (options.stop.stop_requested()) return done(nullptr, cancelled_error(method));
  start_helper();
  Caller caller;
  if (attempt.number < attempt.of) {
    std::weak_ptr<Connection> self = weak_from_this();
    std::weak_ptr<EventHub> hub = events_;
    bool restart = recipe_.options.restart;
    caller.done = [self, hub, restart, &method, params, options, plan, done = std::move(done), attempt](
                      Words* result, std::exception_ptr error) mutable {
      auto events = hub.lock();
      Attempt next = attempt;
      // A caller that asked to stop gets the error it has: nobody waits for
      // another attempt.
      if (!error || !events || options.stop.stop_requested() || !retry(method, next, error, restart)) {
        return done(result, error);
      }
      // Sent again from the delivery thread: this may be a reader's thread,
      // which must never be the one to drop the last reference to the connection.
      events->post([self, &method, params, options, plan, done, next, error] {
        if (auto connection = self.lock()) {
          connection->call_async_attempt(method, params, options, plan, done, next);
        } else {
          done(nullptr, error);
        }
      });
    };
  } else {
    caller.done = std::move(done);
  }
  caller.from_delivery_thread = events_->on_delivery_thread();
  if (options.stop.stop_possible()) {
    MutexLock lock(mutex_);
    caller.tag = ++next_tag_;
  }
  Clock::time_point deadline = deadline_for(plan);
  std::uint64_t id;
  try {
    id = enlist(method, FrameKind::kCall, params->getSegmentsForOutput(), plan, caller, deadline, attempt);
  } catch (...) {
    caller.done(nullptr, std::current_exception());  // the error belongs in the future
    return;
  }
  if (caller.tag) {
    // Made with the lock released: it runs at once if the token already fired.
    std::weak_ptr<Connection> self = weak_from_this();
    std::uint64_t tag = caller.tag;
    auto on_stop = std::make_shared<std::stop_callback<std::function<void()>>>(
        options.stop, std::function<void()>([self, &method, id, tag] {
          if (auto connection = self.lock()) connection->cancel_async(method, id, tag);
        }));
    MutexLock lock(mutex_);
    if (Caller* mine = requests_.find_caller(id, [tag](const Caller& c) { return c.tag == tag; })) {
      mine->on_stop = std::move(on_stop);
    }
    lock.unlock();  // an unclaimed callback (the call settled already) goes here, unlocked
  }
  MutexLock lock(mutex_);
  if (!reader_.held()) reader_.helper_cv().notify_one();
}

std::uint64_t Connection::subscribe(EventListener listener, bool once) {
  const EventInfo& event = *listener.event;
  std::uint64_t id = events_->add(std::move(listener), once);
  // Events come when no call is in flight too: someone must read them.
  start_helper();
  std::shared_ptr<Link> tell;
  bool shared;
  {
    MutexLock lock(mutex_);
    bool fresh = subscribed_.insert(event.ordinal).second;
    shared = !link_->process->own();
    // A shared child is asked every time: each on() waits for it.
    if (fresh || shared) tell = link_;
    if (!reader_.held()) reader_.helper_cv().notify_one();
  }
  if (!tell) return id;
  if (!shared) {
    // Ahead of every later call on this channel, so the child sends the
    // event from those calls on.
    tell->channel->write(FrameKind::kSubscribe, event.ordinal, 0);
    return id;
  }
  // A shared child also runs other clients' calls, which nothing orders
  // against this channel: wait until the child confirms, so that any call
  // made after on() returns sends the event here, whoever makes it.
  try {
    confirm_subscription(event);
  } catch (const TimeoutError&) {
    events_->remove(id);
    throw;
  } catch (const Error&) {
    // The connection is closed: calls fail with the reason, and a
    // reattached child (Options::restart) hears of the subscription.
  }
  return id;
}

void Connection::confirm_subscription(const EventInfo& event) {
  std::string name = std::string("on(") + event.name + ")";
  const MethodInfo method{event.ordinal, name.c_str(), false, 0};
  Waiter waiter;
  Plan plan = timed(CallOptions{});
  waiter.deadline = deadline_for(plan);
  Caller caller;
  caller.waiter = &waiter;
  caller.from_delivery_thread = events_->on_delivery_thread();
  std::uint64_t id = enlist(method, FrameKind::kSubscribe, {}, plan, caller, waiter.deadline, Attempt{});
  await(waiter, id, method, false);
}

void Connection::terminate(std::chrono::milliseconds grace) {
  std::shared_ptr<Link> link;
  {
    MutexLock lock(mutex_);
    terminated_ = true;
    restarted_cv_.notify_all();  // a restart waiting out its backoff gives up
    restarted_cv_.wait(lock.native(), [this]() PROCXY_REQUIRES(mutex_) { return !restarting_; });
    link = link_;
  }
  if (!link->process->own()) {  // leave the shared child to its other clients
    link->channel->write(FrameKind::kShutdown, 0, 0);
    link->channel->shutdown();
    return;
  }
  if (!link->process->exited()) {
    link->channel->write(FrameKind::kShutdown, 0, 0);
    if (!link->process->wait_for(grace)) link->process->signal(SIGKILL);
  }
  link->process->wait();
}

void Connection::kill() {
  std::shared_ptr<Link> link;
  {
    MutexLock lock(mutex_);
    terminated_ = true;
    restarted_cv_.notify_all();
    restarted_cv_.wait(lock.native(), [this]() PROCXY_REQUIRES(mutex_) { return !restarting_; });
    link = link_;
  }
  link->process->signal(SIGKILL);
  link->process->wait();
}

}  // namespace procxy::detail
