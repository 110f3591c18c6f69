// The reading side of a Connection: reading a frame and handing it to its
// owner, settling requests (results, errors, timeouts, cancellations, the
// child's death) and handing the reader role on. connection.cpp has the
// calling side.

#include <signal.h>

#include <algorithm>
#include <exception>
#include <utility>

#include "log.h"
#include "parent/connection.h"
#include "process/supervisor.h"
#include "sandbox_death.h"
#include "transport/heartbeat.h"
#include "wire/failure.h"
#include "wire/message.h"

namespace procxy::detail {
namespace {

// After the channel closes, the child is about to be reaped; if it is still
// running this long after, it closed its channel but did not exit: kill it.
constexpr auto kExitAfterClose = std::chrono::seconds(2);

// PROCXY_DEBUG=call: an exception that crossed from the child.
void log_crossing(const Request& request, const std::exception_ptr& error) {
  if (!log_enabled(LogCategory::kCall)) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    log(LogCategory::kCall, "%s threw in the child: %s", request.method->name, e.what());
  }
}

}  // namespace

Connection::Read Connection::read_and_deliver(const std::shared_ptr<Link>& link, Clock::time_point deadline,
                                              bool wakeable) {
  if (heartbeat_.count() > 0) {
    beat_if_due(*link);
    // Once past, the read only takes what has come.
    deadline = std::min({deadline, next_beat_, link->channel->last_heard() + silence_limit(heartbeat_)});
  }
  Frame frame;
  Channel::ReadStatus status;
  try {
    status = link->channel->read(frame, deadline, wakeable ? wake_.fd() : -1, "parent");
    if (status == Channel::ReadStatus::kFrame) {
      expect(frame.header.kind, Sender::kChild, Phase::kServing, "parent",
             "child " + std::to_string(link->process->pid()));
      validate_message(frame, "parent");
    }
  } catch (const ProtocolError&) {
    MutexLock lock(mutex_);
    if (link == link_) protocol_error_ = std::current_exception();
    link->process->signal(SIGKILL);  // a child that sends garbage cannot be trusted with more calls
    return Read::kClosed;
  }
  switch (status) {
    case Channel::ReadStatus::kFrame:
      if (frame.header.kind != FrameKind::kHeartbeat) deliver(frame, link->process->pid());
      return Read::kProgress;
    case Channel::ReadStatus::kTimeout:
      // Silent until now? (Bytes of a frame still coming count.)
      if (heartbeat_.count() > 0 && Clock::now() >= link->channel->last_heard() + silence_limit(heartbeat_)) {
        return Read::kLost;
      }
      return Read::kTimeout;
    case Channel::ReadStatus::kWoken:
      wake_.drain();
      return Read::kProgress;
    case Channel::ReadStatus::kClosed:
      return Read::kClosed;
  }
  return Read::kClosed;
}

void Connection::beat_if_due(Link& link) {
  Clock::time_point now = Clock::now();
  if (now < next_beat_) return;
  link.channel->beat();
  next_beat_ = now + heartbeat_;
}

void Connection::reject(const std::exception_ptr& error) {
  MutexLock lock(mutex_);
  if (!protocol_error_) protocol_error_ = error;
  if (link_->process->own()) link_->process->signal(SIGKILL);  // it cannot be trusted with more calls
  link_->channel->shutdown();  // the reader sees the channel end, and fails what is pending with `error`
}

void Connection::deliver(Frame& frame, pid_t child) {
  if (frame.header.kind == FrameKind::kSandboxed) {  // its last words: the channel closes next
    MutexLock lock(mutex_);
    sandboxed_ = frame.header.id;
    log(LogCategory::kSandbox, "child %d: %s", static_cast<int>(child), sandbox_kill_text(&*sandboxed_).c_str());
    return;
  }
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
  const MethodInfo* returned = nullptr;  // a call that returned, for Options::limits.max_rss
  {
    MutexLock lock(mutex_);
    std::optional<Request> request = requests_.take(frame.header.id);
    if (!request) return;  // its callers timed out or were cancelled
    Words result;
    std::exception_ptr error;
    if (frame.header.kind == FrameKind::kError) {
      error = to_exception(std::move(frame.payload), FailureContext::kCall, request->method->name, child);
      log_crossing(*request, error);
    } else {
      result = std::move(frame.payload);  // empty for kSubscribed
      if (frame.header.kind == FrameKind::kResult) returned = request->method;
    }
    settle(*request, std::move(result), error);
  }
  // Here, where the connection is surely alive (a completion may be its last owner).
  if (returned && recipe_.options.limits.max_rss) check_resident_memory(*returned);
}

void Connection::settle(Request& request, Words result, std::exception_ptr error) {
  if (!error && request.method->cache_ms > 0) {
    cache_.store(request.key, result, std::chrono::milliseconds(request.method->cache_ms), Clock::now());
  }
  for (Caller& caller : request.joined) {
    complete(caller, error ? Words() : copy_of(result), error);
  }
  complete(request.first, std::move(result), error);
}

void Connection::complete(Caller& caller, Words result, std::exception_ptr error) {
  if (!caller.from_delivery_thread && events_->busy()) {
    auto held = std::make_shared<Words>(std::move(result));
    if (Waiter* waiter = caller.waiter) {
      waiter->deferred = true;
      events_->post([this, waiter, held, error] {
        MutexLock lock(mutex_);  // the waiter's thread keeps this connection alive
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
  Unlocked unlocked(mutex_);
  done(error ? nullptr : &result, error);
  on_stop.reset();  // may wait for the callback running on another thread, which takes the mutex
}

void Connection::expire(std::uint64_t id) {
  std::optional<Request> request = requests_.take(id);
  if (!request) return;
  std::exception_ptr error = timeout_error(*request, Clock::now() - request->start);
  if (recipe_.options.kill_on_timeout) {
    link_->process->signal(SIGKILL);
  } else {
    cancel_in_child(id);
  }
  settle(*request, Words(), error);
}

std::optional<Caller> Connection::leave(std::uint64_t id, const std::function<bool(const Caller&)>& matches) {
  std::optional<Requests::Left> left = requests_.leave(id, matches);
  if (!left) return std::nullopt;
  if (left->abandoned) {
    log(LogCategory::kCall, "call %llu %s cancelled by all its callers", static_cast<unsigned long long>(id),
        left->abandoned->method->name);
    cancel_in_child(id);
  }
  return std::move(left->caller);
}

void Connection::cancel_async(const MethodInfo& method, std::uint64_t id, std::uint64_t tag) {
  MutexLock lock(mutex_);
  std::optional<Caller> caller = leave(id, [tag](const Caller& c) { return c.tag == tag; });
  if (!caller) return;  // settled already: the result wins
  // On the delivery thread: this runs on the thread that requested the stop,
  // inside the stop callback that the completion owns.
  events_->post([done = std::move(caller->done), on_stop = std::move(caller->on_stop),
                 error = cancelled_error(method)] { done(nullptr, error); });
}

void Connection::cancel_in_child(std::uint64_t id) {
  std::shared_ptr<Link> link = link_;
  if (channel_closed_ || exit_status_) return;
  Unlocked unlocked(mutex_);
  link->channel->write(FrameKind::kCancel, 0, id);
}

void Connection::release_role(Read result, const std::shared_ptr<Link>& link) {
  reader_.release();
  if (result == Read::kLost && link == link_ && link_lost_.empty() && !channel_closed_ && !exit_status_) {
    auto silent = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - link->channel->last_heard());
    link_lost_ = "the link to the child was lost: nothing came from it for " + std::to_string(silent.count()) +
                 " ms (" + std::to_string(kHeartbeatsMissed) +
                 " heartbeats of Options::heartbeat = " + std::to_string(heartbeat_.count()) +
                 " ms), so its launcher was killed; the child exits when it notices";
    log(LogCategory::kCall, "child %d: %s", static_cast<int>(link->process->pid()), link_lost_.c_str());
    link->process->signal(SIGKILL);
    link->channel->shutdown();
    fail_all(&Connection::closed_error);
    result = Read::kClosed;
  }
  if (result == Read::kClosed && link == link_ && !channel_closed_) {
    channel_closed_ = true;
    log(LogCategory::kCall, "channel to child %d closed", static_cast<int>(link->process->pid()));
    if (protocol_error_) {
      fail_all(&Connection::protocol_failure);
    } else if (!link->process->own()) {
      fail_all(&Connection::closed_error);
    } else if (!exit_status_) {
      Supervisor::instance().kill_at(link->process, Clock::now() + kExitAfterClose);
    } else {
      fail_all(&Connection::closed_error);  // what on_child_exit left to the reader (a sandboxed child's last words)
    }
    if (exit_to_announce_) events_->push_exit(*std::exchange(exit_to_announce_, std::nullopt));
  }
  expire_async();
  hand_on_role();
}

void Connection::hand_on_role() { reader_.hand_on(helper_has_work()); }

bool Connection::helper_has_work() const {
  return requests_.async_callers() > 0 || !subscribed_.empty() || heartbeat_.count() > 0;
}

void Connection::start_helper() {
  std::call_once(helper_started_, [this] { helper_ = std::thread([this] { helper_loop(); }); });
}

Connection::Clock::time_point Connection::next_async_deadline() const {
  MutexLock lock(mutex_);
  return requests_.next_async_deadline();
}

void Connection::expire_async() {
  for (std::uint64_t id : requests_.expired_async(Clock::now())) expire(id);
}

void Connection::fail_all(ErrorOf error_of) {
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
  for (Request& request : requests_.take_all()) {
    std::exception_ptr e = (this->*error_of)(*request.method);
    fail(request.first, e);
    for (Caller& caller : request.joined) fail(caller, e);
  }
}

void Connection::on_child_exit(const std::shared_ptr<Link>& link, const ExitStatus& status) {
  MutexLock lock(mutex_);
  if (link != link_) return;
  exit_status_ = status;
  // Unblocks a reader even if something else still holds the child's end.
  link->channel->shutdown();
  // A child its sandbox killed said which syscall just before it died: a
  // reader yet to take that frame fails the calls at the channel's end
  // instead, so that their error names the syscall.
  bool last_words_unread =
      recipe_.options.sandbox.enabled && status.exit_code == kExitSandboxed && !sandboxed_ && reader_.held();
  if (!last_words_unread) fail_all(&Connection::closed_error);
  // on_exit listeners run after every event the child sent: when a reader is
  // still to drain the channel, it announces the exit at the end of the stream.
  if (channel_closed_ || subscribed_.empty()) {
    events_->push_exit(status);
  } else {
    exit_to_announce_ = status;
    reader_.helper_cv().notify_one();
  }
}

void Connection::helper_loop() {
  MutexLock lock(mutex_);
  while (!stopping_) {
    if (helper_has_work() && !channel_closed_ && events_->full()) {
      // Not reading until the listeners make room (the hub's room function
      // wakes this thread); asynchronous calls still time out meanwhile, and
      // the child still hears heartbeats.
      Clock::time_point deadline = requests_.next_async_deadline();
      if (heartbeat_.count() > 0 && !reader_.held()) {
        beat_if_due(*link_);  // (a reader sets next_beat_ only while it holds the role)
        deadline = std::min(deadline, next_beat_);
      }
      if (deadline == Clock::time_point::max()) {
        reader_.helper_cv().wait(lock.native());
      } else {
        reader_.helper_cv().wait_until(lock.native(), deadline);
      }
      expire_async();
      continue;
    }
    if (!helper_has_work() || channel_closed_ || !reader_.try_take()) {
      reader_.helper_cv().wait(lock.native());
      continue;
    }
    std::shared_ptr<Link> link = link_;
    lock.unlock();
    Read result = read_and_deliver(link, next_async_deadline(), true);
    lock.lock();
    release_role(result, link);
  }
}

}  // namespace procxy::detail
