#include "prober.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <netinet/in.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace e2e {
namespace {

// Opened before the sandbox engages.
int open_kept(const std::string& kept) {
  if (kept.empty()) return -1;
  int fd = ::open(kept.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + kept + ": " + std::strerror(errno));
  return fd;
}

std::string read_line(int fd) {
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
  return line;
}

}  // namespace

Prober::Prober(const std::string& kept) : kept_fd_(open_kept(kept)), opener_([this] { serve_opens(); }) {}

Prober::~Prober() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  opener_.join();
  if (kept_fd_ >= 0) ::close(kept_fd_);
}

void Prober::serve_opens() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || request_; });
    if (stopping_) return;
    answer_ = open_read(*request_);
    request_.reset();
    changed_.notify_all();
  }
}

std::string Prober::read_kept() {
  ::lseek(kept_fd_, 0, SEEK_SET);
  return read_line(kept_fd_);
}

int Prober::open_read(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  read_line(fd);
  ::close(fd);
  return 0;
}

std::string Prober::first_line(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  std::string line = read_line(fd);
  ::close(fd);
  return line;
}

int Prober::open_write(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno;
  bool written = ::write(fd, "written\n", 8) == 8;
  ::close(fd);
  return written ? 0 : errno;
}

int Prober::thread_open(const std::string& path) {
  std::unique_lock lock(mutex_);
  answer_.reset();
  request_ = path;
  changed_.notify_all();
  changed_.wait(lock, [&] { return answer_.has_value(); });
  return *answer_;
}

int Prober::tcp_socket() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  ::close(fd);
  return 0;
}

int Prober::exec_true() {
  pid_t pid = ::fork();
  if (pid < 0) return errno;
  if (pid == 0) {
    char program[] = "/bin/true";
    char* argv[] = {program, nullptr};
    ::execve(program, argv, environ);
    ::_exit(errno);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int Prober::trace_me() { return ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) == 0 ? 0 : errno; }

int Prober::compare_self() {
  return static_cast<int>(::syscall(SYS_kcmp, ::getpid(), ::getpid(), KCMP_VM, 0, 0)) == 0 ? 0 : errno;
}

int Prober::probe_io_uring() {
  long fd = ::syscall(SYS_io_uring_setup, 1, nullptr);  // a null params pointer: EFAULT unless denied
  if (fd >= 0) ::close(static_cast<int>(fd));
  return fd >= 0 ? 0 : errno;
}

std::string Prober::echo(const std::string& bytes) { return bytes; }

int Prober::say(int count) {
  for (int i = 1; i <= count; ++i) said(i);
  return count;
}

void Prober::fail(const std::string& what) { throw std::runtime_error(what); }

std::int32_t Prober::pid_after(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ::getpid();
}

}  // namespace e2e
