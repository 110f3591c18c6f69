#include "services/pool.h"

#include <capnp/message.h>

#include <algorithm>
#include <future>
#include <stdexcept>
#include <stop_token>
#include <utility>

#include "log.h"
#include "process/resident.h"
#include "services/options_check.h"
#include "services/start.h"

namespace procxy::detail {
namespace {

// The connection of this thread's last synchronous call, whose result the
// generated code may find malformed (reject()).
thread_local std::weak_ptr<Connection> last_connection;

bool child_exited(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const ChildExitedError&) {
    return true;
  } catch (...) {
    return false;
  }
}

ChildRecipe child_recipe(ChildRecipe recipe) {
  recipe.options.dedupe = false;          // a pool's children are its own
  recipe.options.restart = false;         // the pool replaces them
  recipe.options.limits.max_rss.reset();  // the pool retires them
  return recipe;
}

int pool_size(const PoolOptions& options) {
  if (options.size > 0) return options.size;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace

PoolCore::PoolCore(const PoolOptions& options, ChildRecipe recipe)
    : recipe_(child_recipe(std::move(recipe))),
      launchers_(options.launchers),
      size_(pool_size(options)),
      max_calls_(options.max_calls),
      retries_(std::max(0, options.child.retries)),
      shared_(std::make_shared<Shared>(options.child.limits.max_rss)),
      budget_(options.child.restart_policy) {
  std::vector<std::shared_ptr<Slot>> started;
  for (int i = 0; i < size_; ++i) started.push_back(start_slot(static_cast<std::size_t>(i)));
  {
    MutexLock lock(shared_->mutex);
    slots_ = std::move(started);
  }
  worker_ = std::thread([this] { work(); });
  reaper_ = std::thread([this] { reap(); });
}

PoolCore::~PoolCore() {
  std::deque<AsyncCall> resends;
  std::vector<std::shared_ptr<Connection>> connections;
  {
    MutexLock lock(shared_->mutex);
    shared_->stopping = true;
    shared_->changed.notify_all();
  }
  if (worker_.joinable()) worker_.join();
  if (reaper_.joinable()) reaper_.join();  // it ends what it was given first
  {
    MutexLock lock(shared_->mutex);
    resends.swap(shared_->resends);
    for (auto* slots : {&slots_, &leaving_}) {
      for (auto& slot : *slots) connections.push_back(std::move(slot->connection));
    }
  }
  for (AsyncCall& call : resends) {
    call.done(nullptr, std::make_exception_ptr(TerminatedError(
                           "procxy: parent: " + std::string(call.method->name) +
                           " was abandoned: the last handle on its pool was destroyed before it was sent again")));
  }
  connections.clear();  // each fails its pending calls and lets its child go
}

std::shared_ptr<PoolCore::Slot> PoolCore::start_slot(std::size_t index) {
  auto slot = std::make_shared<Slot>();
  ChildRecipe recipe = copy_of(recipe_);
  if (!launchers_.empty()) recipe.options.launcher = launchers_[index % launchers_.size()];
  slot->connection = open_connection(std::move(recipe));
  slot->pid = slot->connection->pid();
  std::weak_ptr<Slot> weak = slot;
  // Runs at once if the child has already exited: not under the pool's lock.
  slot->connection->on_exit([shared = shared_, weak](const ExitStatus& status) {
    MutexLock lock(shared->mutex);
    if (auto exited = weak.lock()) {
      exited->dead = true;
      exited->status = status;
    }
    shared->changed.notify_all();
  });
  return slot;
}

void PoolCore::add_to(Listener& listener, const Slot& slot) {
  if (listener.fired && *listener.fired) return;
  std::erase_if(listener.added, [](const auto& child) { return child.first.expired(); });  // children gone
  EventListener copy = listener.listener;
  if (listener.fired) {
    copy.deliver = [fired = listener.fired, finished = listener.finished,
                    deliver = std::move(copy.deliver)](Reply& params) {
      if (fired->exchange(true)) return;
      struct Finish {
        std::atomic<bool>& finished;
        ~Finish() { finished = true; }
      } finish{*finished};
      deliver(params);
    };
  }
  try {
    listener.added.emplace_back(slot.connection, slot.connection->subscribe(std::move(copy), listener.once));
  } catch (const std::exception& e) {
    // Only a process out of threads gets here: the child's events go unheard.
    log(LogCategory::kEvent, "pool: could not add a listener to child %d: %s", static_cast<int>(slot.pid), e.what());
  }
}

std::uint64_t PoolCore::subscribe(EventListener listener, bool once) {
  std::vector<Listener> done;
  std::uint64_t id;
  {
    MutexLock listeners(listeners_mutex_);
    // once() listeners that ran and returned: what remains of them on the
    // other children goes too.
    for (auto it = listeners_.begin(); it != listeners_.end();) {
      if (it->second.finished && *it->second.finished) {
        done.push_back(std::move(it->second));
        it = listeners_.erase(it);
      } else {
        ++it;
      }
    }
    id = ++next_listener_;
    Listener& added = listeners_[id];
    added.listener = std::move(listener);
    added.once = once;
    if (once) {
      added.fired = std::make_shared<std::atomic<bool>>(false);
      added.finished = std::make_shared<std::atomic<bool>>(false);
    }
    std::vector<std::shared_ptr<Slot>> slots;
    {
      MutexLock lock(shared_->mutex);
      slots = slots_;
      // Children on their way out still run calls, which may emit.
      for (const auto& slot : leaving_) {
        if (slot->connection) slots.push_back(slot);
      }
    }
    for (const auto& slot : slots) add_to(added, *slot);
  }
  for (Listener& listener : done) remove_from_children(listener);
  return id;
}

void PoolCore::remove_from_children(Listener& listener) {
  for (auto& [child, child_id] : listener.added) {
    if (auto connection = child.lock()) connection->events()->remove(child_id);
  }
}

void PoolCore::remove(std::uint64_t id) {
  Listener removed;
  {
    MutexLock listeners(listeners_mutex_);
    auto it = listeners_.find(id);
    if (it == listeners_.end()) return;
    removed = std::move(it->second);
    listeners_.erase(it);
  }
  remove_from_children(removed);
}

bool PoolCore::active(std::uint64_t id) const {
  MutexLock listeners(listeners_mutex_);
  auto it = listeners_.find(id);
  return it != listeners_.end() && !(it->second.fired && *it->second.fired);
}

std::exception_ptr PoolCore::ended_error(const MethodInfo& method) const {
  std::string what = "procxy: parent: " + std::string(method.name) + " on a pool of " + recipe_.class_name;
  if (terminated_) return std::make_exception_ptr(TerminatedError(what + " failed: the pool was terminated"));
  return std::make_exception_ptr(ChildExitedError(
      what + " failed: procxy gave up replacing its children after " + budget_.describe() + "; " + gave_up_ +
          "; fix what makes them die (their stderr says why) or raise Options::restart_policy.max_restarts, "
          "then create a new pool",
      std::nullopt, std::nullopt));
}

std::shared_ptr<PoolCore::Slot> PoolCore::pick(const MethodInfo& method, const CallOptions& options, bool wait) {
  std::chrono::milliseconds timeout = options.timeout.value_or(recipe_.options.timeout);
  auto deadline = Connection::Clock::now() + timeout;
  // Made unlocked: it runs at once if the token has fired.
  std::optional<std::stop_callback<std::function<void()>>> on_stop;
  if (wait && options.stop.stop_possible()) {
    on_stop.emplace(options.stop, std::function<void()>([shared = shared_] {
                      MutexLock lock(shared->mutex);
                      shared->changed.notify_all();
                    }));
  }
  MutexLock lock(shared_->mutex);
  for (;;) {
    if (terminated_ || !gave_up_.empty()) std::rethrow_exception(ended_error(method));
    if (options.stop.stop_requested()) {
      throw CancelledError("procxy: parent: " + std::string(method.name) + " on a pool of " + recipe_.class_name +
                           " was cancelled by its stop token while it waited for a child");
    }
    std::size_t chosen = slots_.size();
    for (std::size_t k = 0; k < slots_.size(); ++k) {
      std::size_t i = (next_ + k) % slots_.size();
      const Slot& slot = *slots_[i];
      if (slot.dead || slot.retiring) continue;
      if (chosen == slots_.size() || slot.in_flight < slots_[chosen]->in_flight) chosen = i;
    }
    if (chosen < slots_.size()) {
      next_ = (chosen + 1) % slots_.size();
      Slot& slot = *slots_[chosen];
      ++slot.in_flight;
      if (max_calls_ > 0 && ++slot.calls >= max_calls_) {
        slot.retiring = true;  // this call is its last
        log(LogCategory::kCall, "pool: child %d served PoolOptions::max_calls = %llu calls: retiring",
            static_cast<int>(slot.pid), static_cast<unsigned long long>(max_calls_));
        shared_->changed.notify_all();
      }
      return slots_[chosen];
    }
    if (!wait) return nullptr;
    if (timeout.count() == 0) {
      shared_->changed.wait(lock.native());
    } else if (shared_->changed.wait_until(lock.native(), deadline) == std::cv_status::timeout) {
      throw TimeoutError("procxy: parent: " + std::string(method.name) + " on a pool of " + recipe_.class_name +
                         " timed out: no child could take it within " + std::to_string(timeout.count()) +
                         " ms (Options::timeout): all were being replaced");
    }
  }
}

void PoolCore::finish(Shared& shared, Slot& slot, const std::exception_ptr& error) {
  bool ok = !error;
  // Its exit is announced only once its channel is drained: a re-sent query
  // must not go back to it meanwhile.
  bool died = error && child_exited(error);
  bool over = false;
  if (ok && shared.max_rss) {
    std::optional<std::uint64_t> resident = resident_bytes(slot.pid);
    over = resident && *resident > *shared.max_rss;
    if (over) {
      log(LogCategory::kCall, "pool: child %d has %llu resident bytes, over Options::limits.max_rss: retiring",
          static_cast<int>(slot.pid), static_cast<unsigned long long>(*resident));
    }
  }
  MutexLock lock(shared.mutex);
  --slot.in_flight;
  if (over) slot.retiring = true;
  if (died) slot.dead = true;
  if (over || died || ((slot.retiring || slot.dead) && slot.in_flight == 0)) shared.changed.notify_all();
}

Words PoolCore::call(const MethodInfo& method, capnp::MessageBuilder& params, const CallOptions& options) {
  for (int attempt = 0;; ++attempt) {
    std::shared_ptr<Slot> slot = pick(method, options, true);
    std::shared_ptr<Connection> connection;
    {
      MutexLock lock(shared_->mutex);
      connection = slot->connection;
    }
    last_connection = connection;
    try {
      // The local reference goes before finish(): after it, the slot's may
      // go, and this must not be the last one (it could be a listener's
      // call, on that child's delivery thread).
      Words result = std::exchange(connection, nullptr)->call(method, params, options);
      finish(*shared_, *slot, nullptr);
      return result;
    } catch (...) {
      finish(*shared_, *slot, std::current_exception());
      if (!method.query || attempt >= retries_ || !child_exited(std::current_exception())) throw;
      log(LogCategory::kCall, "pool: %s: child %d died; sending it to another child", method.name,
          static_cast<int>(slot->pid));
    }
  }
}

void PoolCore::reject(const std::exception_ptr& error) {
  if (auto connection = last_connection.lock()) connection->reject(error);
}

void PoolCore::call_async(const MethodInfo& method, capnp::MessageBuilder& params, const CallOptions& options,
                          Completion done) {
  AsyncCall call{&method, nullptr, options, std::move(done), 0};
  if (method.query && retries_ > 0) {
    // It may be sent again after the caller's message is gone: keep a copy.
    auto message = std::make_shared<capnp::MallocMessageBuilder>();
    message->getRoot<capnp::AnyPointer>().set(params.getRoot<capnp::AnyPointer>().asReader());
    call.params = std::move(message);
  } else {
    call.params = std::shared_ptr<capnp::MessageBuilder>(&params, [](capnp::MessageBuilder*) {});
  }
  send_async(std::move(call));
}

void PoolCore::send_async(AsyncCall call) {
  std::shared_ptr<Slot> slot;
  try {
    slot = pick(*call.method, call.options, false);
  } catch (...) {
    call.done(nullptr, std::current_exception());
    return;
  }
  if (!slot) {
    MutexLock lock(shared_->mutex);
    shared_->resends.push_front(std::move(call));
    shared_->changed.notify_all();  // a child may have come back since pick()
    return;
  }
  std::shared_ptr<Connection> connection;
  {
    MutexLock lock(shared_->mutex);
    connection = slot->connection;
  }
  const MethodInfo& method = *call.method;
  auto params = call.params;
  CallOptions options = call.options;
  bool resend = method.query && call.attempt < retries_;
  auto pending = std::make_shared<AsyncCall>(std::move(call));
  connection->call_async(method, *params, options,
                         [shared = shared_, slot, pending, resend](Words* result, std::exception_ptr error) {
                           finish(*shared, *slot, error);
                           if (error && resend && child_exited(error)) {
                             MutexLock lock(shared->mutex);
                             if (!shared->stopping) {
                               ++pending->attempt;
                               shared->resends.push_back(std::move(*pending));
                               shared->changed.notify_all();
                               return;
                             }
                           }
                           pending->done(result, error);
                         });
}

std::optional<std::size_t> PoolCore::slot_to_replace() const {
  if (terminated_ || !gave_up_.empty()) return std::nullopt;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i]->dead || slots_[i]->retiring) return i;
  }
  return std::nullopt;
}

void PoolCore::replace(MutexLock& lock, std::size_t index) {
  std::shared_ptr<Slot> old = slots_[index];
  if (old->dead || old->replacement_failed) {
    std::optional<RestartBudget::Clock::duration> backoff = budget_.take(RestartBudget::Clock::now());
    if (!backoff) {
      gave_up_ = !last_failure_.empty() ? "the last replacement failed to start: " + last_failure_
                 : old->status          ? "the last child " + old->status->to_string()
                                        : "the last child exited";
      log(LogCategory::kCall, "pool: gave up replacing children of %s after %s", recipe_.class_name.c_str(),
          budget_.describe().c_str());
      shared_->changed.notify_all();  // waiting callers fail
      return;
    }
    log(LogCategory::kCall, "pool: replacing child %d of %s in %lld ms", static_cast<int>(old->pid),
        recipe_.class_name.c_str(),
        static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(*backoff).count()));
    shared_->changed.wait_for(lock.native(), *backoff,
                              [this]() PROCXY_REQUIRES(shared_->mutex) { return shared_->stopping || terminated_; });
    if (shared_->stopping || terminated_) return;
  }
  replacing_ = true;
  std::shared_ptr<Slot> fresh;
  std::string failure;
  bool installed = false;
  {
    Unlocked unlocked(shared_->mutex);
    try {
      fresh = start_slot(index);
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "an exception that is not a std::exception";
    }
    if (fresh) {
      // Under the listeners' lock until it is installed: a subscribe()
      // meanwhile would miss it.
      MutexLock listeners(listeners_mutex_);
      for (auto& [id, listener] : listeners_) add_to(listener, *fresh);
      MutexLock relock(shared_->mutex);
      installed = !terminated_ && !shared_->stopping;
      if (installed) {
        slots_[index] = fresh;
        leaving_.push_back(old);
      }
    }
    // Ended meanwhile: terminate() waits for this one too.
    if (fresh && !installed) fresh->connection->kill();
  }
  replacing_ = false;
  shared_->changed.notify_all();
  if (!fresh) {
    last_failure_ = failure;
    old->replacement_failed = true;
    log(LogCategory::kCall, "pool: a replacement for child %d of %s did not start: %s", static_cast<int>(old->pid),
        recipe_.class_name.c_str(), failure.c_str());
    return;
  }
  last_failure_.clear();
  if (!installed) {
    shared_->to_end.push_back(std::move(fresh->connection));
    return;
  }
  log(LogCategory::kCall, "pool: child %d replaces child %d of %s", static_cast<int>(fresh->pid),
      static_cast<int>(old->pid), recipe_.class_name.c_str());
}

bool PoolCore::charge(const Slot& slot) {
  if (budget_.take(RestartBudget::Clock::now())) return true;
  gave_up_ = slot.status ? "the last child " + slot.status->to_string() : "the last child died";
  log(LogCategory::kCall, "pool: gave up replacing children of %s after %s", recipe_.class_name.c_str(),
      budget_.describe().c_str());
  shared_->changed.notify_all();  // waiting callers fail
  return false;
}

void PoolCore::work() {
  MutexLock lock(shared_->mutex);
  while (!shared_->stopping) {
    if (!shared_->resends.empty() &&
        (terminated_ || !gave_up_.empty() ||
         std::any_of(slots_.begin(), slots_.end(), [](const auto& s) { return !s->dead && !s->retiring; }))) {
      AsyncCall call = std::move(shared_->resends.front());
      shared_->resends.pop_front();
      Unlocked unlocked(shared_->mutex);
      send_async(std::move(call));
      continue;
    }
    // A child that died after it was replaced (it crashed on the call that
    // retired it, say) is a death the policy counts all the same.
    for (auto& slot : leaving_) {
      if (slot->dead && !slot->counted && gave_up_.empty()) {
        slot->counted = true;
        charge(*slot);
      }
    }
    auto done = std::find_if(leaving_.begin(), leaving_.end(), [](const auto& s) { return s->in_flight == 0; });
    if (done != leaving_.end()) {
      shared_->to_end.push_back(std::move((*done)->connection));  // asks the child to exit
      leaving_.erase(done);
      shared_->changed.notify_all();
      continue;
    }
    if (auto index = slot_to_replace()) {
      replace(lock, *index);  // a failed start is tried again, after the policy's backoff
      continue;
    }
    shared_->changed.wait(lock.native());
  }
}

void PoolCore::reap() {
  MutexLock lock(shared_->mutex);
  for (;;) {
    if (!shared_->to_end.empty()) {
      std::shared_ptr<Connection> connection = std::move(shared_->to_end.front());
      shared_->to_end.pop_front();
      Unlocked unlocked(shared_->mutex);
      connection.reset();
      continue;
    }
    if (shared_->stopping) return;
    shared_->changed.wait(lock.native());
  }
}

std::vector<pid_t> PoolCore::pids() const {
  std::vector<pid_t> pids;
  MutexLock lock(shared_->mutex);
  for (const auto& slot : slots_) {
    if (!slot->dead) pids.push_back(slot->pid);
  }
  return pids;
}

std::vector<std::shared_ptr<Connection>> PoolCore::connections() const {
  std::vector<std::shared_ptr<Connection>> connections;
  MutexLock lock(shared_->mutex);
  for (const auto& slot : slots_) {
    if (!slot->dead) connections.push_back(slot->connection);
  }
  return connections;
}

void PoolCore::end(const std::function<void(Connection&)>& how) {
  std::vector<std::shared_ptr<Connection>> connections;
  {
    MutexLock lock(shared_->mutex);
    terminated_ = true;
    shared_->changed.notify_all();  // a replacement waiting out its backoff, and waiting callers, give up
    shared_->changed.wait(lock.native(), [this]() PROCXY_REQUIRES(shared_->mutex) { return !replacing_; });
    for (auto* slots : {&slots_, &leaving_}) {
      for (const auto& slot : *slots) {
        if (slot->connection) connections.push_back(slot->connection);
      }
    }
  }
  // At once, not one grace period after another.
  std::vector<std::future<void>> ends;
  for (auto& connection : connections) {
    ends.push_back(std::async(std::launch::async, [&how, connection] { how(*connection); }));
  }
  for (auto& ended : ends) ended.get();
}

void PoolCore::terminate(std::chrono::milliseconds grace) {
  end([grace](Connection& connection) { connection.terminate(grace); });
}

void PoolCore::kill() {
  end([](Connection& connection) { connection.kill(); });
}

}  // namespace procxy::detail
