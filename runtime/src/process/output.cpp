#include "process/output.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <thread>
#include <utility>
#include <vector>

#include "log.h"
#include "transport/wake_fd.h"

namespace procxy::detail {
namespace {

// Writes all of `text` to `fd`, in one write() where it can, so that lines
// of several children do not mix. A parent whose stdout is gone (EPIPE)
// loses the lines, as its own would.
void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

// The one thread that reads every child's output, and the children it reads.
class OutputPump {
 public:
  static OutputPump& instance() {
    static OutputPump* pump = new OutputPump();  // lives as long as the process, like its thread
    return *pump;
  }

  std::shared_ptr<ChildOutput> add(int out_fd, int err_fd, const std::string& class_name, pid_t pid,
                                   const Output& output) PROCXY_EXCLUDES(mutex_) {
    auto child = std::make_shared<ChildOutput>(out_fd, err_fd, class_name, pid, output, wake_);
    {
      MutexLock lock(mutex_);
      incoming_.push_back(child);
    }
    wake_.wake();
    return child;
  }

 private:
  OutputPump() {
    std::thread([this] { run(); }).detach();
  }

  void run() PROCXY_EXCLUDES(mutex_) {
    // prefix() writes to this process's stdout and stderr: if one is a pipe
    // whose reader left, the write fails with EPIPE instead of killing the
    // process with SIGPIPE (a signal sent to the writing thread).
    sigset_t pipe_signal;
    ::sigemptyset(&pipe_signal);
    ::sigaddset(&pipe_signal, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);

    std::vector<std::shared_ptr<ChildOutput>> children;  // this thread's
    std::vector<pollfd> fds;
    std::vector<ChildOutput::Stream*> streams;  // streams[i] is polled as fds[i + 1]
    std::vector<ChildOutput*> owners;
    for (;;) {
      {
        MutexLock lock(mutex_);
        for (auto& child : incoming_) children.push_back(std::move(child));
        incoming_.clear();
      }
      fds.assign(1, pollfd{wake_.fd(), POLLIN, 0});
      streams.clear();
      owners.clear();
      for (auto it = children.begin(); it != children.end();) {
        if ((*it)->settle()) {
          it = children.erase(it);
          continue;
        }
        for (ChildOutput::Stream& stream : (*it)->streams_) {
          if (stream.eof) continue;
          fds.push_back(pollfd{stream.fd, POLLIN, 0});
          streams.push_back(&stream);
          owners.push_back(it->get());
        }
        ++it;
      }
      if (::poll(fds.data(), fds.size(), -1) < 0) continue;  // EINTR
      if (fds[0].revents != 0) wake_.drain();
      for (std::size_t i = 0; i < streams.size(); ++i) {
        if (fds[i + 1].revents != 0) owners[i]->read(*streams[i]);
      }
    }
  }

  WakeFd wake_{"parent"};
  Mutex mutex_;  // nothing else is taken while it is held
  std::vector<std::shared_ptr<ChildOutput>> incoming_ PROCXY_GUARDED_BY(mutex_);  // for the thread to take
};

ChildOutput::ChildOutput(int out_fd, int err_fd, const std::string& class_name, pid_t pid, Output output, WakeFd& wake)
    : streams_{Stream(out_fd, 1), Stream(err_fd, 2)},
      label_("[" + class_name + " " + std::to_string(pid) + "] "),
      name_(class_name + " in child " + std::to_string(pid)),
      output_(std::move(output)),
      wake_(wake) {
  for (Stream& stream : streams_) {
    if (stream.fd < 0) {
      stream.eof = true;
      continue;
    }
    // Only the parent's end: the child's stays blocking, as a program expects
    // of its stdout.
    ::fcntl(stream.fd, F_SETFL, ::fcntl(stream.fd, F_GETFL) | O_NONBLOCK);
  }
}

std::string ChildOutput::tail() const {
  MutexLock lock(mutex_);
  return tail_;
}

ChildOutput::~ChildOutput() {
  for (Stream& stream : streams_) {
    if (stream.fd >= 0) ::close(stream.fd);
  }
}

void ChildOutput::drain() {
  {
    MutexLock lock(mutex_);
    exited_ = true;
    wake_.wake();
    auto deadline = std::chrono::steady_clock::now() + kOutputDrainLimit;
    while (!drained_) {
      if (drained_cv_.wait_until(lock.native(), deadline) == std::cv_status::timeout) break;
    }
    if (drained_) return;
  }
  log(LogCategory::kSpawn, "the output of %s is still being handed on after %d ms; its exit is reported without it",
      name_.c_str(), static_cast<int>(kOutputDrainLimit.count()));
}

void ChildOutput::read(Stream& stream) {
  char buffer[kMaxOutputLine];
  ssize_t n = ::read(stream.fd, buffer, sizeof buffer);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    stream.eof = true;
    return;
  }
  std::string_view text(buffer, static_cast<std::size_t>(n));
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::size_t room = kMaxOutputLine - stream.partial.size();
    if (end == std::string_view::npos || end > room) {
      // No end of line within the bound: keep the piece, or hand on a full one.
      std::size_t piece = std::min(text.size(), room);
      stream.partial.append(text.substr(0, piece));
      text.remove_prefix(piece);
      if (stream.partial.size() == kMaxOutputLine) flush(stream);
      continue;
    }
    if (stream.partial.empty()) {
      hand_on(stream.child_fd, text.substr(0, end));  // the common case: no copy
    } else {
      stream.partial.append(text.substr(0, end));
      hand_on(stream.child_fd, stream.partial);
      stream.partial.clear();
    }
    text.remove_prefix(end + 1);
  }
  stream.taken += static_cast<std::uint64_t>(n);
}

bool ChildOutput::settle() {
  bool closed = streams_[0].eof && streams_[1].eof;
  bool exited;
  {
    MutexLock lock(mutex_);
    if (drained_ && !closed) return false;  // a grandchild still holds a pipe
    exited = exited_;
  }
  if (exited && !targeted_) {
    // The child has exited, so its ends of the pipes are closed and what they
    // hold now is all it wrote: waiting for that, not for the end of the
    // pipes, leaves a grandchild that keeps them open out of it.
    targeted_ = true;
    for (Stream& stream : streams_) {
      int pending = 0;
      if (!stream.eof && ::ioctl(stream.fd, FIONREAD, &pending) == 0) stream.target = stream.taken + pending;
      if (stream.target < stream.taken) stream.target = stream.taken;
    }
  }
  bool done = closed;
  if (!done && targeted_) {
    done = true;
    for (const Stream& stream : streams_) done = done && (stream.eof || stream.taken >= stream.target);
  }
  if (!done) return false;
  // The child's last line, though it did not end it.
  for (Stream& stream : streams_) flush(stream);
  {
    MutexLock lock(mutex_);
    drained_ = true;
  }
  drained_cv_.notify_all();
  if (!closed) return false;
  // Now, not when the last reference goes (the child's handle may be kept
  // long after its death).
  for (Stream& stream : streams_) {
    if (stream.fd >= 0) ::close(stream.fd);
    stream.fd = -1;
  }
  return true;
}

void ChildOutput::flush(Stream& stream) {
  if (stream.partial.empty()) return;
  hand_on(stream.child_fd, stream.partial);
  stream.partial.clear();
}

void ChildOutput::hand_on(int child_fd, std::string_view line) {
  if (child_fd == 2) {
    MutexLock lock(mutex_);
    tail_.append(line).push_back('\n');
    if (tail_.size() > kStderrTailBytes) tail_.erase(0, tail_.size() - kStderrTailBytes);
  }
  switch (output_.mode()) {
    case Output::Mode::kInherit:
      write_all(child_fd, std::string(line) + '\n');
      return;
    case Output::Mode::kDiscard:
      return;
    case Output::Mode::kPrefix:
    case Output::Mode::kTo:
      break;
  }
  if (output_.mode() == Output::Mode::kPrefix) {
    std::string text;
    text.reserve(label_.size() + line.size() + 1);
    text.append(label_).append(line).push_back('\n');
    write_all(child_fd, text);
    return;
  }
  try {
    output_.callback()(child_fd, line);
  } catch (const std::exception& e) {
    log_always(LogCategory::kSpawn, "the Options::output callback threw on a line of %s: %s; handing on the next lines",
               name_.c_str(), e.what());
  } catch (...) {
    log_always(LogCategory::kSpawn, "the Options::output callback threw on a line of %s; handing on the next lines",
               name_.c_str());
  }
}

std::shared_ptr<ChildOutput> pump_output(int out_fd, int err_fd, const std::string& class_name, pid_t pid,
                                         const Output& output) {
  return OutputPump::instance().add(out_fd, err_fd, class_name, pid, output);
}

}  // namespace procxy::detail
