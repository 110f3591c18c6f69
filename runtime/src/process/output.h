#pragma once

// The parent's end of children's stdout and stderr (Options::output prefix()
// and to()): one runtime thread, started on first use, polls the pipes of
// every child, cuts what arrives into lines and hands each line on. One
// thread for all children, not one per child: a child costs the parent no
// thread for its output.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "mutex.h"
#include "procxy/options.h"

namespace procxy::detail {

class WakeFd;

// A line longer than this is handed on in pieces of this size, so that a
// child writing without newlines cannot make the parent buffer without limit.
inline constexpr std::size_t kMaxOutputLine = 64 * 1024;
// How long a child's exit waits for its output to be handed on, at most (a
// callback that blocks; a slow machine). Past it, the rest still arrives, later.
inline constexpr std::chrono::milliseconds kOutputDrainLimit{1000};

// The end of a child's stderr that ChildOutput keeps, for the messages of a
// launcher's failures (ssh's "Permission denied").
inline constexpr std::size_t kStderrTailBytes = 4096;

// One child's output, as the pump reads it. Created by pump_output(); its
// streams belong to the pump's thread, its exit state to whoever holds mutex_.
class ChildOutput {
 public:
  // `out_fd` -1: only stderr is read (a launcher's stdout is the channel).
  ChildOutput(int out_fd, int err_fd, const std::string& class_name, pid_t pid, Output output, WakeFd& wake);
  ~ChildOutput();
  ChildOutput(const ChildOutput&) = delete;
  ChildOutput& operator=(const ChildOutput&) = delete;

  // Called once the child has exited: returns once every byte it wrote has
  // been handed on (its partial last lines included), or after
  // kOutputDrainLimit. Output of a grandchild that holds the pipes still
  // arrives afterwards, without being waited for.
  void drain() PROCXY_EXCLUDES(mutex_);

  // The last lines of stderr handed on, up to kStderrTailBytes.
  std::string tail() const PROCXY_EXCLUDES(mutex_);

 private:
  friend class OutputPump;

  struct Stream {
    Stream(int fd, int child_fd) : fd(fd), child_fd(child_fd) {}
    int fd;                    // -1 once closed
    int child_fd;              // 1 or 2: what the child calls it
    std::string partial;       // the line being read, not yet ended by a newline
    std::uint64_t taken = 0;   // bytes read and handed on
    std::uint64_t target = 0;  // at the child's exit: taken + what the pipe then held
    bool eof = false;
  };

  // On the pump's thread only.
  void read(Stream& stream);
  // Sets the exit targets, ends partial lines, reports the drain; true once
  // both pipes are closed and the pump can forget this child.
  bool settle() PROCXY_EXCLUDES(mutex_);
  void flush(Stream& stream);
  void hand_on(int child_fd, std::string_view line);

  Stream streams_[2];
  const std::string label_;  // "[demo::Calculator 4242] "
  const std::string name_;   // "demo::Calculator in child 4242", for procxy's log
  const Output output_;
  bool targeted_ = false;  // the pump's thread's
  WakeFd& wake_;

  mutable Mutex mutex_;  // nothing else is taken while it is held
  std::condition_variable drained_cv_;
  std::string tail_ PROCXY_GUARDED_BY(mutex_);
  bool exited_ PROCXY_GUARDED_BY(mutex_) = false;
  bool drained_ PROCXY_GUARDED_BY(mutex_) = false;
};

// Hands the read ends of a new child's stdout and stderr pipes (taking
// ownership; `out_fd` may be -1) to the pump, which starts on first use.
// inherit() hands each line on unchanged. Throws std::exception if that
// thread cannot be made (out of file descriptors or threads).
std::shared_ptr<ChildOutput> pump_output(int out_fd, int err_fd, const std::string& class_name, pid_t pid,
                                         const Output& output);

}  // namespace procxy::detail
