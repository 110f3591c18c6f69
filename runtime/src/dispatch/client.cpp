#include "dispatch/client.h"

#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <stop_token>
#include <utility>

#include "log.h"
#include "remote_error.h"
#include "wire/message.h"

namespace procxy::detail {
namespace {

constexpr auto kGraceOnRelease = std::chrono::seconds(1);
// After the channel closes, the child is about to be reaped; if it is still
// running this long after, it closed its channel but did not exit: kill it.
constexpr auto kExitAfterClose = std::chrono::seconds(2);

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

Connection::Connection(ChildRecipe recipe, Link link)
    : recipe_(std::move(recipe)), link_(std::make_shared<Link>(std::move(link))) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

void Connection::start() {
  std::unique_lock<std::mutex> lock(mutex_);
  install(lock, link_);
}

void Connection::install(std::unique_lock<std::mutex>& lock, std::shared_ptr<Link> link) {
  link_ = std::move(link);
  channel_closed_ = false;
  exit_status_.reset();
  exit_to_announce_.reset();
  protocol_error_ = nullptr;
  cache_.clear();  // results of the object that died
  std::weak_ptr<Connection> self = weak_from_this();
  // The handler runs at once when the child has already exited: not under our lock.
  auto process = link_->process;
  std::weak_ptr<Link> weak_link = link_;
  // A restarted child hears of the subscriptions before any call.
  for (std::uint16_t ordinal : subscribed_) link_->channel->write(FrameKind::kSubscribe, ordinal, 0);
  lock.unlock();
  process->on_exit([self, weak_link](const ExitStatus& status) {
    auto connection = self.lock();
    auto link = weak_link.lock();
    if (connection && link) connection->on_child_exit(link, status);
  });
  lock.lock();
}

Connection::~Connection() {
  std::shared_ptr<Link> link;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    stopping_ = true;
    terminated_ = true;
    link = link_;
    fail_all(lock, [](const MethodInfo& method) {
      return std::make_exception_ptr(TerminatedError("procxy: parent: " + std::string(method.name) +
                                                     " was abandoned: the last proxy handle was destroyed"));
    });
  }
  helper_cv_.notify_all();
  wake_reader();
  if (helper_.joinable()) helper_.join();
  events_->stop();
  if (!link->process->exited()) {
    // Polite first: the child destroys its object and exits. The supervisor
    // kills it if it has not after the grace period; nobody waits here. A
    // shared child only hears that this client leaves.
    link->channel->write(FrameKind::kShutdown, 0, 0);
    if (link->process->own()) Supervisor::instance().kill_at(link->process, Clock::now() + kGraceOnRelease);
  }
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

pid_t Connection::pid() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return link_->process->pid();
}

bool Connection::alive() const {
  std::lock_guard<std::mutex> lock(mutex_);
  // A shared child's connection can end while it lives on; then it is gone for us.
  bool connected = link_->process->own() || !channel_closed_;
  return !terminated_ && !exit_status_ && !link_->process->exited() && connected;
}

ExitStatus Connection::wait() const {
  std::shared_ptr<Link> link;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    link = link_;
  }
  return link->process->wait();
}

std::uint64_t Connection::on_exit(std::function<void(const ExitStatus&)> handler) {
  std::lock_guard<std::mutex> lock(mutex_);
  return events_->add_exit(std::move(handler), exit_status_);
}

int Connection::attempts_for(const MethodInfo& method) const {
  return method.query ? 1 + std::max(0, recipe_.options.retries) : 1;
}

Connection::Clock::time_point Connection::deadline_for(const CallOptions& options) const {
  std::chrono::milliseconds timeout = options.timeout.value_or(recipe_.options.timeout);
  return timeout.count() <= 0 ? Clock::time_point::max() : Clock::now() + timeout;
}

std::exception_ptr Connection::closed_error(const MethodInfo& method) const {
  std::string what = std::string(method.name) + " on child " + std::to_string(link_->process->pid());
  if (terminated_) {
    return std::make_exception_ptr(
        TerminatedError("procxy: parent: " + what + " failed: the proxy was terminated by the parent"));
  }
  if (protocol_error_) return protocol_error_;
  if (!link_->process->own() && !exit_status_) {
    return std::make_exception_ptr(
        ChildExitedError("procxy: parent: " + what + " failed: the shared child '" + recipe_.shared_name +
                             "' closed the connection (it exited, or dropped this client; its log says which); " +
                             (recipe_.options.restart ? "the next call attaches again" : "attach again to continue"),
                         std::nullopt, std::nullopt));
  }
  ExitStatus status = exit_status_.value_or(ExitStatus{});
  std::string next = recipe_.options.restart ? "the next call starts a new child" : "spawn a new proxy to continue";
  return std::make_exception_ptr(
      ChildExitedError("procxy: parent: " + what + " failed: the child " + status.to_string() + "; " + next,
                       status.exit_code, status.signal));
}

std::exception_ptr Connection::cancelled_error(const MethodInfo& method) const {
  return std::make_exception_ptr(CancelledError("procxy: parent: " + std::string(method.name) +
                                                " was cancelled by its stop token; the child stops it only if "
                                                "every caller sharing the request cancelled"));
}

std::exception_ptr Connection::timeout_error(const Pending& pending, Clock::duration waited) const {
  std::string attempts = pending.attempts > 1 ? " (attempt " + std::to_string(pending.attempt) + " of " +
                                                    std::to_string(pending.attempts) + ")"
                                              : "";
  std::string after =
      recipe_.options.kill_on_timeout ? "the child was killed (Options::kill_on_timeout)" : "the child keeps running";
  return std::make_exception_ptr(TimeoutError("procxy: parent: " + std::string(pending.method->name) + " on child " +
                                              std::to_string(link_->process->pid()) + " timed out after " +
                                              std::to_string(ms(waited)) + " ms" + attempts + "; " + after +
                                              " (raise Options::timeout or CallOptions::timeout if it needs longer)"));
}

std::shared_ptr<Link> Connection::usable_link(std::unique_lock<std::mutex>& lock, const MethodInfo& method) {
  for (;;) {
    if (terminated_) std::rethrow_exception(closed_error(method));
    if (restarting_) {
      restarted_cv_.wait(lock);
      continue;
    }
    if (!exit_status_ && !protocol_error_ && !channel_closed_) return link_;
    bool shared = !link_->process->own();
    if (!recipe_.options.restart) {
      // The channel closed but the child is not reaped yet: its exit, moments
      // away, fails the call with the exit status. (A shared child's is not
      // ours to see: the closed channel is the end.)
      if (!exit_status_ && !protocol_error_ && !shared) return link_;
      std::rethrow_exception(closed_error(method));
    }
    restarting_ = true;
    std::shared_ptr<Link> old = link_;
    lock.unlock();
    std::shared_ptr<Link> fresh;
    std::exception_ptr failure;
    try {
      if (!shared) old->process->wait();  // reaped soon: it closed its channel, and lingering gets it killed
      fresh = std::make_shared<Link>(start_child(recipe_));
    } catch (...) {
      failure = std::current_exception();
    }
    lock.lock();
    restarting_ = false;
    restarted_cv_.notify_all();
    if (failure) std::rethrow_exception(failure);
    log(LogCategory::kSpawn, "restarted %s: child %d replaces child %d", recipe_.class_name.c_str(),
        static_cast<int>(fresh->process->pid()), static_cast<int>(old->process->pid()));
    install(lock, std::move(fresh));
  }
}

Connection::Plan Connection::plan(const MethodInfo& method, capnp::MessageBuilder& params,
                                  const CallOptions& options) const {
  Plan plan;
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
    std::lock_guard<std::mutex> lock(mutex_);
    hit = cache_.find(plan.key, Clock::now());
  }
  if (hit) log(LogCategory::kCoalesce, "cache hit: %s", method.name);
  return hit;
}

std::uint64_t Connection::enlist(const MethodInfo& method, FrameKind kind, Segments segments, const Plan& plan,
                                 Caller& caller, Clock::time_point& deadline, int attempt, int attempts) {
  if (std::size_t size = Channel::payload_bytes(segments); size > kMaxFrameSize) {
    throw frame_too_large(size, "procxy: parent: the arguments of " + std::string(method.name));
  }
  bool async = static_cast<bool>(caller.done);
  std::uint64_t id;
  std::shared_ptr<Link> link;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    link = usable_link(lock, method);
    if (plan.coalesce) {
      if (auto found = in_flight_.find(plan.key); found != in_flight_.end()) {
        id = found->second;
        Pending& pending = pending_.at(id);
        pending.joined.push_back(std::move(caller));
        if (async) {
          ++pending.async_callers;
          ++async_callers_;
        }
        deadline = pending.deadline;
        log(LogCategory::kCoalesce, "coalesce hit: %s joins call %llu", method.name,
            static_cast<unsigned long long>(id));
        return id;
      }
    }
    id = ++next_id_;
    Pending pending;
    pending.first = std::move(caller);
    pending.async_callers = async ? 1 : 0;
    pending.start = Clock::now();
    pending.deadline = deadline;
    pending.method = &method;
    pending.attempt = attempt;
    pending.attempts = attempts;
    pending.key = plan.key;
    pending.in_flight = plan.coalesce;
    if (plan.coalesce) in_flight_.emplace(plan.key, id);
    async_callers_ += pending.async_callers;
    pending_.emplace(id, std::move(pending));
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
  int attempts = attempts_for(method);
  for (int attempt = 1;; ++attempt) {
    try {
      return call_once(method, params, options, how, attempt, attempts);
    } catch (...) {
      if (attempt == attempts || !worth_retrying(std::current_exception(), recipe_.options.restart)) throw;
    }
    log(LogCategory::kCall, "retrying query %s (attempt %d of %d)", method.name, attempt + 1, attempts);
  }
}

Words Connection::call_once(const MethodInfo& method, capnp::MessageBuilder& params, const CallOptions& options,
                            const Plan& plan, int attempt, int attempts) {
  if (options.stop.stop_requested()) std::rethrow_exception(cancelled_error(method));
  Waiter waiter;
  waiter.deadline = deadline_for(options);
  Caller caller;
  caller.waiter = &waiter;
  caller.from_delivery_thread = events_->on_delivery_thread();
  std::uint64_t id =
      enlist(method, FrameKind::kCall, params.getSegmentsForOutput(), plan, caller, waiter.deadline, attempt, attempts);

  std::optional<std::stop_callback<std::function<void()>>> on_stop;
  if (options.stop.stop_possible()) {
    on_stop.emplace(options.stop, std::function<void()>([this, &waiter] {
                      std::lock_guard<std::mutex> lock(mutex_);
                      waiter.cancelled = true;
                      waiter.cv.notify_one();
                      wake_reader();
                    }));
  }
  return await(waiter, id, method, options.stop.stop_possible());
}

Words Connection::await(Waiter& waiter, std::uint64_t id, const MethodInfo& method, bool stoppable) {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!waiter.done) {
    if (waiter.deferred) {  // settled; the events before it are being delivered
      waiter.cv.wait(lock);
      continue;
    }
    if (waiter.cancelled) break;
    if (!reading_ && !channel_closed_) {
      reading_ = true;
      std::shared_ptr<Link> link = link_;
      lock.unlock();
      // Only a stop token needs to end this caller's wait early: without
      // one, the read blocks in recv() with no poll() first.
      Read result = read_and_deliver(link, std::min(waiter.deadline, next_async_deadline()), stoppable);
      lock.lock();
      release_role(lock, result, link);
    } else {
      idle_waiters_.push_back(&waiter);
      waiter.cv.wait_until(lock, waiter.deadline);
      idle_waiters_.erase(std::find(idle_waiters_.begin(), idle_waiters_.end(), &waiter));
    }
    if (!waiter.done && !waiter.deferred && !waiter.cancelled && Clock::now() >= waiter.deadline) {
      expire(lock, id);  // settles this waiter (and those who share its request) with the timeout
    }
  }
  hand_on_role();      // this caller may have been woken to read, and leaves
  if (!waiter.done) {  // cancelled, and still waiting: nobody will touch the waiter again
    leave(lock, id, [&waiter](const Caller& c) { return c.waiter == &waiter; });
    lock.unlock();
    std::rethrow_exception(cancelled_error(method));
  }
  lock.unlock();
  if (waiter.error) std::rethrow_exception(waiter.error);
  return std::move(waiter.result);
}

void Connection::call_async(const MethodInfo& method, capnp::MessageBuilder& params, const CallOptions& options,
                            Completion done) {
  Plan how = plan(method, params, options);
  if (auto hit = cached_result(method, how)) return done(&*hit, nullptr);
  int attempts = attempts_for(method);
  std::shared_ptr<capnp::MessageBuilder> copy;
  if (attempts > 1) {
    // A query may be sent again after the caller's message is gone: keep a copy.
    auto message = std::make_shared<capnp::MallocMessageBuilder>();
    message->getRoot<capnp::AnyPointer>().set(params.getRoot<capnp::AnyPointer>().asReader());
    copy = std::move(message);
  } else {
    // Sent once, now: no copy (the deleter does not own the caller's message).
    copy = std::shared_ptr<capnp::MessageBuilder>(&params, [](capnp::MessageBuilder*) {});
  }
  call_async_attempt(method, std::move(copy), options, std::move(how), std::move(done), 1, attempts);
}

void Connection::call_async_attempt(const MethodInfo& method, std::shared_ptr<capnp::MessageBuilder> params,
                                    const CallOptions& options, Plan plan, Completion done, int attempt, int attempts) {
  if (options.stop.stop_requested()) return done(nullptr, cancelled_error(method));
  start_helper();
  Caller caller;
  if (attempt < attempts) {
    std::weak_ptr<Connection> self = weak_from_this();
    std::weak_ptr<EventHub> hub = events_;
    bool restart = recipe_.options.restart;
    caller.done = [self, hub, restart, &method, params, options, plan, done = std::move(done), attempt, attempts](
                      Words* result, std::exception_ptr error) mutable {
      bool retry = error && !options.stop.stop_requested() && worth_retrying(error, restart);
      auto events = hub.lock();
      if (!retry || !events) return done(result, error);
      log(LogCategory::kCall, "retrying query %s (attempt %d of %d)", method.name, attempt + 1, attempts);
      // Sent again from the delivery thread: this may be a reader's thread,
      // which must never be the one to drop the last reference to the connection.
      events->post([self, &method, params, options, plan, done, attempt, attempts, error] {
        if (auto connection = self.lock()) {
          connection->call_async_attempt(method, params, options, plan, done, attempt + 1, attempts);
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
    std::lock_guard<std::mutex> lock(mutex_);
    caller.tag = ++next_tag_;
  }
  Clock::time_point deadline = deadline_for(options);
  std::uint64_t id;
  try {
    id = enlist(method, FrameKind::kCall, params->getSegmentsForOutput(), plan, caller, deadline, attempt, attempts);
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
    std::unique_lock<std::mutex> lock(mutex_);
    if (auto it = pending_.find(id); it != pending_.end()) {
      if (Caller* mine = find_caller(it->second, [tag](const Caller& c) { return c.tag == tag; })) {
        mine->on_stop = std::move(on_stop);
      }
    }
    lock.unlock();  // an unclaimed callback (the call settled already) goes here, unlocked
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (!reading_) helper_cv_.notify_one();
}

Connection::Read Connection::read_and_deliver(const std::shared_ptr<Link>& link, Clock::time_point deadline,
                                              bool wakeable) {
  Frame frame;
  Channel::ReadStatus status;
  try {
    status = link->channel->read(frame, deadline, wakeable ? wake_fd_ : -1, "parent");
    if (status == Channel::ReadStatus::kFrame) {
      FrameKind kind = frame.header.kind;
      if (kind != FrameKind::kResult && kind != FrameKind::kError && kind != FrameKind::kEvent &&
          kind != FrameKind::kSubscribed) {
        throw ProtocolError("procxy: parent: child " + std::to_string(link->process->pid()) + " sent frame kind " +
                            std::to_string(static_cast<int>(kind)) +
                            ", which a child never sends once started; the connection is closed");
      }
      validate_message(frame, "parent");
    }
  } catch (const ProtocolError&) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (link == link_) protocol_error_ = std::current_exception();
    link->process->signal(SIGKILL);  // a child that sends garbage cannot be trusted with more calls
    return Read::kClosed;
  }
  switch (status) {
    case Channel::ReadStatus::kFrame:
      deliver(frame, link->process->pid());
      return Read::kProgress;
    case Channel::ReadStatus::kTimeout:
      return Read::kTimeout;
    case Channel::ReadStatus::kWoken: {
      std::uint64_t count;
      [[maybe_unused]] ssize_t n = ::read(wake_fd_, &count, sizeof count);
      return Read::kProgress;
    }
    case Channel::ReadStatus::kClosed:
      return Read::kClosed;
  }
  return Read::kClosed;
}

void Connection::deliver(Frame& frame, pid_t child) {
  if (frame.header.kind == FrameKind::kEvent) {
    // Events keep their place among results: the hub delivers them in order
    // and holds back the results that follow them.
    if (events_->wants(frame.header.ordinal)) {
      events_->push_event(frame.header.ordinal, std::move(frame.payload), child);
    } else {
      log(LogCategory::kEvent, "event %u from child %d dropped: no listener", frame.header.ordinal,
          static_cast<int>(child));
    }
    return;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  auto it = pending_.find(frame.header.id);
  if (it == pending_.end()) return;  // its callers timed out or were cancelled
  Pending pending = take(it);
  Words result;
  std::exception_ptr error;
  if (frame.header.kind == FrameKind::kError) {
    error = to_exception(std::move(frame.payload), FailureContext::kCall, pending.method->name, child);
  } else {
    result = std::move(frame.payload);  // empty for kSubscribed
  }
  settle(lock, pending, std::move(result), error);
}

Connection::Pending Connection::take(std::unordered_map<std::uint64_t, Pending>::iterator it) {
  Pending pending = std::move(it->second);
  if (pending.in_flight) in_flight_.erase(pending.key);
  async_callers_ -= pending.async_callers;
  pending_.erase(it);
  return pending;
}

void Connection::settle(std::unique_lock<std::mutex>& lock, Pending& pending, Words result, std::exception_ptr error) {
  if (!error && pending.method->cache_ms > 0) {
    cache_.store(pending.key, result, std::chrono::milliseconds(pending.method->cache_ms), Clock::now());
  }
  for (Caller& caller : pending.joined) {
    complete(lock, caller, error ? Words() : copy_of(result), error);
  }
  complete(lock, pending.first, std::move(result), error);
}

void Connection::complete(std::unique_lock<std::mutex>& lock, Caller& caller, Words result, std::exception_ptr error) {
  if (!caller.from_delivery_thread && events_->busy()) {
    auto held = std::make_shared<Words>(std::move(result));
    if (Waiter* waiter = caller.waiter) {
      waiter->deferred = true;
      events_->post([this, waiter, held, error] {
        std::lock_guard<std::mutex> lock(mutex_);  // the waiter's thread keeps this connection alive
        waiter->result = std::move(*held);
        waiter->error = error;
        waiter->done = true;
        waiter->cv.notify_one();
      });
    } else {
      events_->post([done = std::move(caller.done), on_stop = std::move(caller.on_stop), held, error] {
        done(error ? nullptr : held.get(), error);
      });
    }
    return;
  }
  if (Waiter* waiter = caller.waiter) {
    waiter->result = std::move(result);
    waiter->error = error;
    waiter->done = true;
    waiter->cv.notify_one();
    return;
  }
  Completion done = std::move(caller.done);
  std::shared_ptr<void> on_stop = std::move(caller.on_stop);
  lock.unlock();
  done(error ? nullptr : &result, error);
  on_stop.reset();  // may wait for the callback running on another thread, which takes the lock
  lock.lock();
}

void Connection::expire(std::unique_lock<std::mutex>& lock, std::uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Pending pending = take(it);
  std::exception_ptr error = timeout_error(pending, Clock::now() - pending.start);
  if (recipe_.options.kill_on_timeout) {
    link_->process->signal(SIGKILL);
  } else {
    cancel_in_child(lock, id);
  }
  settle(lock, pending, Words(), error);
}

std::optional<Connection::Caller> Connection::leave(std::unique_lock<std::mutex>& lock, std::uint64_t id,
                                                    const std::function<bool(const Caller&)>& matches) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return std::nullopt;
  Pending& pending = it->second;
  Caller* found = find_caller(pending, matches);
  if (!found) return std::nullopt;
  Caller left = std::move(*found);
  // The last joined caller fills the hole, so `first` stays a live caller.
  bool abandoned = pending.joined.empty();
  if (!abandoned) {
    if (found != &pending.joined.back()) *found = std::move(pending.joined.back());
    pending.joined.pop_back();
  }
  if (left.done) {
    --pending.async_callers;
    --async_callers_;
  }
  if (abandoned) {
    Pending gone = take(it);
    log(LogCategory::kCall, "call %llu %s cancelled by all its callers", static_cast<unsigned long long>(id),
        gone.method->name);
    cancel_in_child(lock, id);
  }
  return left;
}

Connection::Caller* Connection::find_caller(Pending& pending, const std::function<bool(const Caller&)>& matches) {
  if (matches(pending.first)) return &pending.first;
  auto found = std::find_if(pending.joined.begin(), pending.joined.end(), matches);
  return found == pending.joined.end() ? nullptr : &*found;
}

void Connection::cancel_async(const MethodInfo& method, std::uint64_t id, std::uint64_t tag) {
  std::unique_lock<std::mutex> lock(mutex_);
  std::optional<Caller> caller = leave(lock, id, [tag](const Caller& c) { return c.tag == tag; });
  if (!caller) return;  // settled already: the result wins
  // On the delivery thread: this runs on the thread that requested the stop,
  // inside the stop callback that the completion owns.
  events_->post([done = std::move(caller->done), on_stop = std::move(caller->on_stop),
                 error = cancelled_error(method)] { done(nullptr, error); });
}

void Connection::cancel_in_child(std::unique_lock<std::mutex>& lock, std::uint64_t id) {
  std::shared_ptr<Link> link = link_;
  if (channel_closed_ || exit_status_) return;
  lock.unlock();
  link->channel->write(FrameKind::kCancel, 0, id);
  lock.lock();
}

void Connection::release_role(std::unique_lock<std::mutex>& lock, Read result, const std::shared_ptr<Link>& link) {
  reading_ = false;
  if (result == Read::kClosed && link == link_ && !channel_closed_) {
    channel_closed_ = true;
    log(LogCategory::kCall, "channel to child %d closed", static_cast<int>(link->process->pid()));
    if (protocol_error_) {
      fail_all(lock, [this](const MethodInfo&) { return protocol_error_; });
    } else if (!link->process->own()) {
      fail_all(lock, [this](const MethodInfo& method) { return closed_error(method); });
    } else if (!exit_status_) {
      Supervisor::instance().kill_at(link->process, Clock::now() + kExitAfterClose);
    }
    if (exit_to_announce_) events_->push_exit(*std::exchange(exit_to_announce_, std::nullopt));
  }
  expire_async(lock);
  hand_on_role();
}

void Connection::hand_on_role() {
  if (reading_) return;
  // To a blocked caller still waiting first (one that was just settled would
  // take it nowhere), else to the helper.
  for (Waiter* waiter : idle_waiters_) {
    if (!waiter->done && !waiter->deferred && !waiter->cancelled) {
      waiter->cv.notify_one();
      return;
    }
  }
  if (helper_has_work()) helper_cv_.notify_one();
}

bool Connection::helper_has_work() const { return async_callers_ > 0 || !subscribed_.empty(); }

std::uint64_t Connection::subscribe(EventListener listener, bool once) {
  const EventInfo& event = *listener.event;
  std::uint64_t id = events_->add(std::move(listener), once);
  // Events come when no call is in flight too: someone must read them.
  start_helper();
  std::shared_ptr<Link> tell;
  bool shared;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    bool fresh = subscribed_.insert(event.ordinal).second;
    shared = !link_->process->own();
    // A shared child is asked every time: each on() waits for it.
    if (fresh || shared) tell = link_;
    if (!reading_) helper_cv_.notify_one();
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
  waiter.deadline = deadline_for(CallOptions{});
  Caller caller;
  caller.waiter = &waiter;
  caller.from_delivery_thread = events_->on_delivery_thread();
  std::uint64_t id = enlist(method, FrameKind::kSubscribe, {}, Plan{}, caller, waiter.deadline, 1, 1);
  await(waiter, id, method, false);
}

void Connection::start_helper() {
  std::call_once(helper_started_, [this] { helper_ = std::thread([this] { helper_loop(); }); });
}

Connection::Clock::time_point Connection::next_async_deadline() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Clock::time_point next = Clock::time_point::max();
  if (async_callers_ == 0) return next;
  for (const auto& [id, pending] : pending_) {
    if (pending.async_callers > 0) next = std::min(next, pending.deadline);
  }
  return next;
}

void Connection::expire_async(std::unique_lock<std::mutex>& lock) {
  if (async_callers_ == 0) return;
  Clock::time_point now = Clock::now();
  std::vector<std::uint64_t> expired;
  for (const auto& [id, pending] : pending_) {
    if (pending.async_callers > 0 && pending.deadline <= now) expired.push_back(id);
  }
  for (std::uint64_t id : expired) expire(lock, id);
}

void Connection::fail_all(std::unique_lock<std::mutex>& lock,
                          const std::function<std::exception_ptr(const MethodInfo&)>& error) {
  auto fail = [this](Caller& caller, const std::exception_ptr& e) {
    if (caller.waiter) {
      caller.waiter->error = e;
      caller.waiter->done = true;
      caller.waiter->cv.notify_one();
    } else {
      // On the delivery thread, never here: this may be the supervisor's
      // thread, and a retried query may restart the child.
      events_->post([done = std::move(caller.done), on_stop = std::move(caller.on_stop), e] { done(nullptr, e); });
    }
  };
  for (auto& [id, pending] : pending_) {
    std::exception_ptr e = error(*pending.method);
    fail(pending.first, e);
    for (Caller& caller : pending.joined) fail(caller, e);
  }
  pending_.clear();
  in_flight_.clear();
  async_callers_ = 0;
  (void)lock;
}

void Connection::on_child_exit(const std::shared_ptr<Link>& link, const ExitStatus& status) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (link != link_) return;
  exit_status_ = status;
  // Unblocks a reader even if something else still holds the child's end.
  link->channel->shutdown();
  fail_all(lock, [this](const MethodInfo& method) { return closed_error(method); });
  // on_exit listeners run after every event the child sent: when a reader is
  // still to drain the channel, it announces the exit at the end of the stream.
  if (channel_closed_ || subscribed_.empty()) {
    events_->push_exit(status);
  } else {
    exit_to_announce_ = status;
    helper_cv_.notify_one();
  }
}

void Connection::wake_reader() {
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void Connection::terminate(std::chrono::milliseconds grace) {
  std::shared_ptr<Link> link;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    terminated_ = true;
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
    std::lock_guard<std::mutex> lock(mutex_);
    terminated_ = true;
    link = link_;
  }
  link->process->signal(SIGKILL);
  link->process->wait();
}

void Connection::helper_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (!helper_has_work() || reading_ || channel_closed_) {
      helper_cv_.wait(lock);
      continue;
    }
    reading_ = true;
    std::shared_ptr<Link> link = link_;
    lock.unlock();
    Read result = read_and_deliver(link, next_async_deadline(), true);
    lock.lock();
    release_role(lock, result, link);
  }
}

}  // namespace procxy::detail
