#include "fake_child.h"

#include <signal.h>

namespace wire_test {

FakeChild::FakeChild(pid_t pid) : pid_(pid), thread_([this] { deliver(); }) {}

FakeChild::~FakeChild() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  // The last handle may go in an exit handler (with the connection it ended).
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();
  } else {
    thread_.join();
  }
}

bool FakeChild::exited() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return status_.has_value();
}

procxy::ExitStatus FakeChild::wait() const {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return status_.has_value(); });
  return *status_;
}

bool FakeChild::wait_for(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return status_.has_value(); });
}

void FakeChild::signal(int signal) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (status_) return;
  signals_.push_back(signal);
  if (signal == SIGKILL) {
    status_ = procxy::ExitStatus{};
    status_->signal = SIGKILL;
    changed_.notify_all();
  }
}

void FakeChild::on_exit(std::function<void(const procxy::ExitStatus&)> handler) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!status_) {
    handlers_.push_back(std::move(handler));
    return;
  }
  procxy::ExitStatus status = *status_;
  lock.unlock();
  handler(status);
}

std::vector<int> FakeChild::signals() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return signals_;
}

void FakeChild::deliver() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return stopping_ || status_.has_value(); });
  if (!status_) return;
  std::vector<std::function<void(const procxy::ExitStatus&)>> handlers;
  handlers.swap(handlers_);
  procxy::ExitStatus status = *status_;
  lock.unlock();
  for (auto& handler : handlers) handler(status);
}

std::shared_ptr<FakeChild> fake_child() { return std::make_shared<FakeChild>(); }

}  // namespace wire_test
