#pragma once

// A fake child for code that drives the child's side of a channel itself:
// it runs nothing. Signalled with SIGKILL (the parent's answer to a child
// that misbehaves, or times out with Options::kill_on_timeout), it "dies" of
// it, and its exit reaches on_exit() handlers on a thread of its own, as the
// supervisor's does for a real child.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "process/child_handle.h"

namespace wire_test {

class FakeChild final : public procxy::detail::ChildHandle {
 public:
  explicit FakeChild(pid_t pid = 4242);
  ~FakeChild() override;

  pid_t pid() const override { return pid_; }
  bool own() const override { return true; }
  bool exited() const override;
  procxy::ExitStatus wait() const override;
  bool wait_for(std::chrono::milliseconds timeout) const override;
  void signal(int signal) const override;
  void on_exit(std::function<void(const procxy::ExitStatus&)> handler) override;

  // The signals sent to it, in order.
  std::vector<int> signals() const;

 private:
  void deliver();

  const pid_t pid_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  mutable std::vector<int> signals_;
  mutable std::optional<procxy::ExitStatus> status_;
  std::vector<std::function<void(const procxy::ExitStatus&)>> handlers_;
  bool stopping_ = false;
  std::thread thread_;  // runs the exit handlers
};

// A fake child for a Link.
std::shared_ptr<FakeChild> fake_child();

}  // namespace wire_test
