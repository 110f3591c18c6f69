#include "fake_child.h"

#include <signal.h>

#include <thread>

namespace wire_test {

bool FakeChild::exited() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->status.has_value();
}

procxy::ExitStatus FakeChild::wait() const {
  std::unique_lock<std::mutex> lock(state_->mutex);
  state_->exited.wait(lock, [&] { return state_->status.has_value(); });
  return *state_->status;
}

bool FakeChild::wait_for(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(state_->mutex);
  return state_->exited.wait_for(lock, timeout, [&] { return state_->status.has_value(); });
}

void FakeChild::signal(int signal) const {
  if (signal != SIGKILL) return;
  std::vector<std::function<void(const procxy::ExitStatus&)>> handlers;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->status) return;
    state_->status = procxy::ExitStatus{};
    state_->status->signal = SIGKILL;
    handlers.swap(state_->handlers);
  }
  state_->exited.notify_all();
  // Never on the caller's thread: it may hold the connection's lock.
  std::thread([state = state_, handlers = std::move(handlers)] {
    for (const auto& handler : handlers) handler(*state->status);
  }).detach();
}

void FakeChild::on_exit(std::function<void(const procxy::ExitStatus&)> handler) {
  std::unique_lock<std::mutex> lock(state_->mutex);
  if (!state_->status) {
    state_->handlers.push_back(std::move(handler));
    return;
  }
  procxy::ExitStatus status = *state_->status;
  lock.unlock();
  handler(status);
}

std::shared_ptr<FakeChild> fake_child() { return std::make_shared<FakeChild>(); }

}  // namespace wire_test
