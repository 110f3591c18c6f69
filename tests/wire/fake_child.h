#pragma once

// A fake child for code that drives the child's side of a channel itself:
// it runs nothing. Signalled with SIGKILL (the parent's answer to a child
// that misbehaves, or times out with Options::kill_on_timeout), it "dies" of
// it, and its exit reaches on_exit() handlers on a thread of their own, as
// the supervisor's thread delivers a real child's.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "process/child_handle.h"

namespace wire_test {

class FakeChild final : public procxy::detail::ChildHandle {
 public:
  explicit FakeChild(pid_t pid = 4242) : pid_(pid) {}

  pid_t pid() const override { return pid_; }
  bool own() const override { return true; }
  bool exited() const override;
  procxy::ExitStatus wait() const override;
  bool wait_for(std::chrono::milliseconds timeout) const override;
  void signal(int signal) const override;
  void on_exit(std::function<void(const procxy::ExitStatus&)> handler) override;

 private:
  // Shared with the thread that runs the exit handlers, which may outlive
  // the fake (the last handle can go in a handler, with the connection).
  struct State {
    std::mutex mutex;
    std::condition_variable exited;
    std::optional<procxy::ExitStatus> status;
    std::vector<std::function<void(const procxy::ExitStatus&)>> handlers;
  };

  const pid_t pid_;
  const std::shared_ptr<State> state_ = std::make_shared<State>();
};

// A fake child for a Link.
std::shared_ptr<FakeChild> fake_child();

}  // namespace wire_test
