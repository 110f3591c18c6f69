#pragma once

// The parent's side of a connection to one child: request ids, pending calls,
// timeouts, cancellation, and failing every pending call when the child dies.
//
// Reading is done by the callers themselves: one waiting caller at a time
// holds the "reader role", reads replies and hands each to its caller, so a
// lone synchronous caller reads its own reply with no thread hop. A helper
// thread takes the role only while asynchronous calls are pending and no
// caller holds it.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "process/supervisor.h"
#include "procxy/detail/generated_support.h"
#include "transport/channel.h"

namespace procxy::detail {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Clock = std::chrono::steady_clock;

  Connection(std::unique_ptr<Channel> channel, std::shared_ptr<ChildProcess> process, Options options);
  // Call start() once the connection is owned by a shared_ptr.
  void start();
  // Asks the child to exit, and kills it if it has not within a second.
  ~Connection();

  Words call(const MethodInfo& method, capnp::MessageBuilder& params, const CallOptions& options);
  void call_async(const MethodInfo& method, capnp::MessageBuilder& params, const CallOptions& options, Completion done);

  pid_t pid() const { return process_->pid(); }
  bool alive() const;
  void terminate(std::chrono::milliseconds grace);
  void kill();
  ExitStatus wait() const { return process_->wait(); }

 private:
  struct Waiter {
    std::condition_variable cv;
    bool done = false;
    bool cancelled = false;
    Words result;
    std::exception_ptr error;
  };
  struct Pending {
    Waiter* waiter = nullptr;  // a blocked caller, or
    Completion done;           // an asynchronous one
    Clock::time_point start;
    Clock::time_point deadline;
    const MethodInfo* method = nullptr;
  };
  enum class Read { kProgress, kTimeout, kClosed };

  Clock::time_point deadline_for(const CallOptions& options) const;
  // Registers and writes the call. Throws (leaving `pending` untouched) when the
  // call cannot be sent.
  std::uint64_t send(const MethodInfo& method, capnp::MessageBuilder& params, Pending&& pending);
  Read read_and_deliver(Clock::time_point deadline);
  void deliver(Frame& frame);
  void release_role(std::unique_lock<std::mutex>& lock, Read result);
  void expire_async(std::unique_lock<std::mutex>& lock);
  Clock::time_point next_async_deadline() const;
  void fail_all(std::unique_lock<std::mutex>& lock, const std::function<std::exception_ptr(const MethodInfo&)>& error);
  void on_child_exit(const ExitStatus& status);
  std::exception_ptr closed_error(const MethodInfo& method) const;
  std::exception_ptr timeout_error(const MethodInfo& method, Clock::duration waited) const;
  void wake_reader();
  void helper_loop();

  const std::unique_ptr<Channel> channel_;
  const std::shared_ptr<ChildProcess> process_;
  const Options options_;
  int wake_fd_ = -1;  // eventfd: interrupts the reader's poll (cancellation, shutdown)

  mutable std::mutex mutex_;
  std::uint64_t next_id_ = 0;
  std::unordered_map<std::uint64_t, Pending> pending_;
  std::size_t async_pending_ = 0;
  std::vector<Waiter*> idle_waiters_;  // blocked callers without the reader role
  bool reading_ = false;
  bool channel_closed_ = false;
  bool terminated_ = false;
  std::optional<ExitStatus> exit_status_;
  std::exception_ptr protocol_error_;

  std::once_flag helper_started_;
  std::thread helper_;
  std::condition_variable helper_cv_;
  bool stopping_ = false;
};

}  // namespace procxy::detail
