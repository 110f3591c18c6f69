#pragma once

// std::mutex with clang's thread-safety annotations, so that the compiler
// checks which mutex guards which field (-Wthread-safety, on in every clang
// build). libstdc++'s own mutex carries no annotations.
//
//   Mutex mutex_;
//   int count_ PROCXY_GUARDED_BY(mutex_);
//   void bump() PROCXY_REQUIRES(mutex_);  // called with mutex_ held
//
//   MutexLock lock(mutex_);               // held to the end of the scope
//   cv.wait(lock.native());               // condition variables wait on the std::unique_lock
//   { Unlocked unlocked(mutex_); ... }    // released for a while, e.g. to write to a socket

#include <mutex>

#if defined(__clang__)
#define PROCXY_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define PROCXY_THREAD_ANNOTATION(x)
#endif

#define PROCXY_CAPABILITY(x) PROCXY_THREAD_ANNOTATION(capability(x))
#define PROCXY_SCOPED_CAPABILITY PROCXY_THREAD_ANNOTATION(scoped_lockable)
#define PROCXY_GUARDED_BY(x) PROCXY_THREAD_ANNOTATION(guarded_by(x))
#define PROCXY_PT_GUARDED_BY(x) PROCXY_THREAD_ANNOTATION(pt_guarded_by(x))
#define PROCXY_REQUIRES(...) PROCXY_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define PROCXY_EXCLUDES(...) PROCXY_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define PROCXY_ACQUIRE(...) PROCXY_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define PROCXY_RELEASE(...) PROCXY_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define PROCXY_ACQUIRED_AFTER(...) PROCXY_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define PROCXY_NO_THREAD_SAFETY_ANALYSIS PROCXY_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace procxy::detail {

class PROCXY_CAPABILITY("mutex") Mutex {
 public:
  void lock() PROCXY_ACQUIRE() { mutex_.lock(); }
  void unlock() PROCXY_RELEASE() { mutex_.unlock(); }
  bool try_lock() PROCXY_THREAD_ANNOTATION(try_acquire_capability(true)) { return mutex_.try_lock(); }
  std::mutex& native() { return mutex_; }

 private:
  std::mutex mutex_;
};

// Holds a Mutex until the end of the scope (or unlock()).
class PROCXY_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mutex) PROCXY_ACQUIRE(mutex) : lock_(mutex.native()) {}
  ~MutexLock() PROCXY_RELEASE() = default;
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void lock() PROCXY_ACQUIRE() { lock_.lock(); }
  void unlock() PROCXY_RELEASE() { lock_.unlock(); }
  // For condition variables, which release and retake it while they wait.
  std::unique_lock<std::mutex>& native() { return lock_; }

 private:
  std::unique_lock<std::mutex> lock_;
};

// Releases a held Mutex until the end of the scope. For a function that is
// called with the mutex held (PROCXY_REQUIRES) and lets go of it for a
// while: the caller's MutexLock holds it again when the function returns.
class PROCXY_SCOPED_CAPABILITY Unlocked {
 public:
  explicit Unlocked(Mutex& mutex) PROCXY_RELEASE(mutex) : mutex_(mutex) { mutex_.unlock(); }
  ~Unlocked() PROCXY_RELEASE() { mutex_.lock(); }
  Unlocked(const Unlocked&) = delete;
  Unlocked& operator=(const Unlocked&) = delete;

 private:
  Mutex& mutex_;
};

}  // namespace procxy::detail
