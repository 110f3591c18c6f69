#pragma once

// The class the sandbox tests run (sandbox_test.cpp): an object that tries,
// once it serves, what a compromised object would — open files, create
// sockets, execute programs, trace itself — and reports what the kernel said.

#include <procxy/annotate.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace e2e {

class PROCXY_REMOTE Prober {
 public:
  // Opens `kept` for reading when it is not empty, before the sandbox
  // engages, and starts a thread of its own, which opens files later on
  // request (thread_open).
  explicit Prober(const std::string& kept);
  ~Prober();

  std::string read_kept();  // the first line of the file the constructor opened
  // 0 when `path` opens for reading (and its first line is read), else errno.
  PROCXY_QUERY int open_read(const std::string& path);
  std::string first_line(const std::string& path);  // throws std::runtime_error naming errno
  int open_write(const std::string& path);          // creates or truncates `path`: 0, else errno
  int thread_open(const std::string& path);         // open_read() from the constructor's thread
  int tcp_socket();                                 // socket(AF_INET, SOCK_STREAM): 0, else errno
  // Runs /bin/true in a forked process: its exit code, or the errno of
  // execve as the exit code when it could not run (EPERM: the sandbox).
  int exec_true();
  int trace_me();                              // ptrace(PTRACE_TRACEME): the sandbox kills the child
  int compare_self();                          // kcmp() of its own memory with itself: trapped unless allowed
  int probe_io_uring();                        // io_uring_setup(): 0, else errno (ENOSYS in the sandbox)
  std::string echo(const std::string& bytes);  // large payloads through shared memory
  PROCXY_EVENT void said(int n);
  int say(int count);                  // emits said(1..count), returns count
  void fail(const std::string& what);  // throws std::runtime_error(what)
  std::int32_t pid_after(int ms);      // sleeps, returns its pid

 private:
  void serve_opens();

  int kept_fd_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<std::string> request_;
  std::optional<int> answer_;
  bool stopping_ = false;
  std::thread opener_;
};

}  // namespace e2e
