#pragma once

// An eventfd that ends another thread's poll(): a reader blocked on its
// channel, a loop waiting for connections. wake() may be called from any
// thread, any number of times before the waiter drains it.

namespace procxy::detail {

class WakeFd {
 public:
  // Throws procxy::Error naming `side` when the kernel gives no eventfd
  // (the process is out of file descriptors).
  explicit WakeFd(const char* side);
  ~WakeFd();
  WakeFd(const WakeFd&) = delete;
  WakeFd& operator=(const WakeFd&) = delete;

  int fd() const { return fd_; }
  void wake();
  // Consumes the wake-ups so far; the next poll() blocks again.
  void drain();

 private:
  int fd_;
};

}  // namespace procxy::detail
