#include "dispatch/client.h"

#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <stop_token>

#include "log.h"
#include "remote_error.h"

namespace procxy::detail {
namespace {

constexpr auto kGraceOnRelease = std::chrono::seconds(1);
// After the channel closes, the child is about to be reaped; if it is still
// running this long after, it closed its channel but did not exit: kill it.
constexpr auto kExitAfterClose = std::chrono::seconds(2);

long long ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

Connection::Connection(std::unique_ptr<Channel> channel, std::shared_ptr<ChildProcess> process, Options options)
    : channel_(std::move(channel)), process_(std::move(process)), options_(std::move(options)) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

void Connection::start() {
  std::weak_ptr<Connection> self = weak_from_this();
  process_->on_exit([self](const ExitStatus& status) {
    if (auto connection = self.lock()) connection->on_child_exit(status);
  });
}

Connection::~Connection() {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    stopping_ = true;
    terminated_ = true;
    fail_all(lock, [this](const MethodInfo& method) {
      return std::make_exception_ptr(TerminatedError("procxy: parent: " + std::string(method.name) +
                                                     " was abandoned: the last proxy handle was destroyed"));
    });
  }
  helper_cv_.notify_all();
  wake_reader();
  if (helper_.joinable()) helper_.join();
  if (!process_->exited()) {
    // Polite first: the child destroys its object and exits. The supervisor
    // kills it if it has not after the grace period; nobody waits here.
    channel_->write(FrameKind::kShutdown, 0, 0);
    Supervisor::instance().kill_at(process_, Clock::now() + kGraceOnRelease);
  }
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

bool Connection::alive() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return !terminated_ && !exit_status_ && !process_->exited();
}

Connection::Clock::time_point Connection::deadline_for(const CallOptions& options) const {
  std::chrono::milliseconds timeout = options.timeout.value_or(options_.timeout);
  return timeout.count() <= 0 ? Clock::time_point::max() : Clock::now() + timeout;
}

std::exception_ptr Connection::closed_error(const MethodInfo& method) const {
  std::string what = std::string(method.name) + " on child " + std::to_string(process_->pid());
  if (terminated_) {
    return std::make_exception_ptr(
        TerminatedError("procxy: parent: " + what + " failed: the proxy was terminated by the parent"));
  }
  if (protocol_error_) return protocol_error_;
  ExitStatus status = exit_status_.value_or(ExitStatus{});
  return std::make_exception_ptr(ChildExitedError(
      "procxy: parent: " + what + " failed: the child " + status.to_string() + "; spawn a new proxy to continue",
      status.exit_code, status.signal));
}

std::exception_ptr Connection::timeout_error(const MethodInfo& method, Clock::duration waited) const {
  return std::make_exception_ptr(
      TimeoutError("procxy: parent: " + std::string(method.name) + " on child " + std::to_string(process_->pid()) +
                   " timed out after " + std::to_string(ms(waited)) +
                   " ms; the child keeps running (raise Options::timeout or CallOptions::timeout, or set "
                   "Options::kill_on_timeout)"));
}

std::uint64_t Connection::send(const MethodInfo& method, capnp::MessageBuilder& params, Pending&& pending) {
  auto segments = params.getSegmentsForOutput();
  if (std::size_t size = Channel::payload_bytes(segments); size > kMaxFrameSize) {
    throw frame_too_large(size, "procxy: parent: the arguments of " + std::string(method.name));
  }
  std::uint64_t id;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (terminated_ || exit_status_ || protocol_error_) std::rethrow_exception(closed_error(method));
    id = ++next_id_;
    if (pending.done) ++async_pending_;
    pending_.emplace(id, std::move(pending));
    // The channel closed but the child is not reaped yet: its exit, moments
    // away, fails this call with the exit status.
    if (channel_closed_) return id;
  }
  log(LogCategory::kCall, "call %llu %s -> child %d", static_cast<unsigned long long>(id), method.name,
      static_cast<int>(process_->pid()));
  // A failed write means the child is gone; its exit fails the call.
  channel_->write(FrameKind::kCall, method.ordinal, id, segments);
  return id;
}

Words Connection::call(const MethodInfo& method, capnp::MessageBuilder& params, const CallOptions& options) {
  Clock::time_point start = Clock::now();
  Clock::time_point deadline = deadline_for(options);
  Waiter waiter;
  Pending pending;
  pending.waiter = &waiter;
  pending.start = start;
  pending.deadline = deadline;
  pending.method = &method;
  std::uint64_t id = send(method, params, std::move(pending));

  std::optional<std::stop_callback<std::function<void()>>> on_stop;
  if (options.stop.stop_possible()) {
    on_stop.emplace(options.stop, std::function<void()>([this, &waiter] {
                      std::lock_guard<std::mutex> lock(mutex_);
                      waiter.cancelled = true;
                      waiter.cv.notify_one();
                      wake_reader();
                    }));
  }

  std::unique_lock<std::mutex> lock(mutex_);
  while (!waiter.done && !waiter.cancelled) {
    if (!reading_ && !channel_closed_) {
      reading_ = true;
      lock.unlock();
      Read result = read_and_deliver(std::min(deadline, next_async_deadline()));
      lock.lock();
      release_role(lock, result);
    } else {
      idle_waiters_.push_back(&waiter);
      waiter.cv.wait_until(lock, deadline);
      idle_waiters_.erase(std::find(idle_waiters_.begin(), idle_waiters_.end(), &waiter));
    }
    if (!waiter.done && !waiter.cancelled && Clock::now() >= deadline) {
      pending_.erase(id);
      std::exception_ptr error = timeout_error(method, Clock::now() - start);
      if (options_.kill_on_timeout) process_->signal(SIGKILL);
      lock.unlock();
      std::rethrow_exception(error);
    }
  }
  if (!waiter.done) {  // cancelled
    pending_.erase(id);
    lock.unlock();
    throw CancelledError("procxy: parent: " + std::string(method.name) +
                         " was cancelled by its stop token; the child may still run it");
  }
  lock.unlock();
  if (waiter.error) std::rethrow_exception(waiter.error);
  return std::move(waiter.result);
}

void Connection::call_async(const MethodInfo& method, capnp::MessageBuilder& params, const CallOptions& options,
                            Completion done) {
  std::call_once(helper_started_, [this] { helper_ = std::thread([this] { helper_loop(); }); });
  Pending pending;
  pending.done = std::move(done);
  pending.start = Clock::now();
  pending.deadline = deadline_for(options);
  pending.method = &method;
  try {
    send(method, params, std::move(pending));
  } catch (...) {
    pending.done(nullptr, std::current_exception());  // the error belongs in the future
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (!reading_) helper_cv_.notify_one();
}

Connection::Read Connection::read_and_deliver(Clock::time_point deadline) {
  Frame frame;
  Channel::ReadStatus status;
  try {
    status = channel_->read(frame, deadline, wake_fd_, "parent");
  } catch (const ProtocolError&) {
    std::unique_lock<std::mutex> lock(mutex_);
    protocol_error_ = std::current_exception();
    process_->signal(SIGKILL);  // a child that sends garbage cannot be trusted with more calls
    return Read::kClosed;
  }
  switch (status) {
    case Channel::ReadStatus::kFrame:
      deliver(frame);
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

void Connection::deliver(Frame& frame) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto it = pending_.find(frame.header.id);
  if (it == pending_.end()) return;  // its caller timed out or was cancelled
  Pending pending = std::move(it->second);
  pending_.erase(it);
  if (pending.done) --async_pending_;

  Words result;
  std::exception_ptr error;
  if (frame.header.kind == FrameKind::kResult) {
    result = std::move(frame.payload);
  } else if (frame.header.kind == FrameKind::kError) {
    error = to_exception(std::move(frame.payload), FailureContext::kCall, pending.method->name, process_->pid());
  } else {
    error = std::make_exception_ptr(ProtocolError("procxy: parent: child " + std::to_string(process_->pid()) +
                                                  " answered " + pending.method->name + " with frame kind " +
                                                  std::to_string(static_cast<int>(frame.header.kind))));
  }
  if (pending.waiter) {
    pending.waiter->result = std::move(result);
    pending.waiter->error = error;
    pending.waiter->done = true;
    pending.waiter->cv.notify_one();
    return;
  }
  lock.unlock();
  pending.done(error ? nullptr : &result, error);
}

void Connection::release_role(std::unique_lock<std::mutex>& lock, Read result) {
  reading_ = false;
  if (result == Read::kClosed && !channel_closed_) {
    channel_closed_ = true;
    log(LogCategory::kCall, "channel to child %d closed", static_cast<int>(process_->pid()));
    if (protocol_error_) {
      fail_all(lock, [this](const MethodInfo&) { return protocol_error_; });
    } else if (!exit_status_) {
      Supervisor::instance().kill_at(process_, Clock::now() + kExitAfterClose);
    }
  }
  expire_async(lock);
  // Hand the role on: to a blocked caller first, else to the helper.
  if (!idle_waiters_.empty()) {
    idle_waiters_.front()->cv.notify_one();
  } else if (async_pending_ > 0) {
    helper_cv_.notify_one();
  }
}

Connection::Clock::time_point Connection::next_async_deadline() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Clock::time_point next = Clock::time_point::max();
  if (async_pending_ == 0) return next;
  for (const auto& [id, pending] : pending_) {
    if (pending.done) next = std::min(next, pending.deadline);
  }
  return next;
}

void Connection::expire_async(std::unique_lock<std::mutex>& lock) {
  if (async_pending_ == 0) return;
  Clock::time_point now = Clock::now();
  std::vector<std::pair<Completion, std::exception_ptr>> expired;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.done && it->second.deadline <= now) {
      expired.emplace_back(std::move(it->second.done), timeout_error(*it->second.method, now - it->second.start));
      it = pending_.erase(it);
      --async_pending_;
    } else {
      ++it;
    }
  }
  if (expired.empty()) return;
  if (options_.kill_on_timeout) process_->signal(SIGKILL);
  lock.unlock();
  for (auto& [done, error] : expired) done(nullptr, error);
  lock.lock();
}

void Connection::fail_all(std::unique_lock<std::mutex>& lock,
                          const std::function<std::exception_ptr(const MethodInfo&)>& error) {
  std::vector<std::pair<Completion, std::exception_ptr>> failed;
  for (auto& [id, pending] : pending_) {
    if (pending.waiter) {
      pending.waiter->error = error(*pending.method);
      pending.waiter->done = true;
      pending.waiter->cv.notify_one();
    } else {
      failed.emplace_back(std::move(pending.done), error(*pending.method));
    }
  }
  pending_.clear();
  async_pending_ = 0;
  if (failed.empty()) return;
  lock.unlock();
  for (auto& [done, e] : failed) done(nullptr, e);
  lock.lock();
}

void Connection::on_child_exit(const ExitStatus& status) {
  std::unique_lock<std::mutex> lock(mutex_);
  exit_status_ = status;
  // Unblocks a reader even if something else still holds the child's end.
  channel_->shutdown();
  fail_all(lock, [this](const MethodInfo& method) { return closed_error(method); });
}

void Connection::wake_reader() {
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void Connection::terminate(std::chrono::milliseconds grace) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    terminated_ = true;
  }
  if (!process_->exited()) {
    channel_->write(FrameKind::kShutdown, 0, 0);
    if (!process_->wait_for(grace)) process_->signal(SIGKILL);
  }
  process_->wait();
}

void Connection::kill() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    terminated_ = true;
  }
  process_->signal(SIGKILL);
  process_->wait();
}

void Connection::helper_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (async_pending_ == 0 || reading_ || channel_closed_) {
      helper_cv_.wait(lock);
      continue;
    }
    reading_ = true;
    lock.unlock();
    Read result = read_and_deliver(next_async_deadline());
    lock.lock();
    release_role(lock, result);
  }
}

}  // namespace procxy::detail
