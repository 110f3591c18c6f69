#include "child/shared_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "log.h"
#include "mutex.h"
#include "procxy/detail/generated_support.h"
#include "procxy/errors.h"
#include "side.h"
#include "transport/unix_socket.h"
#include "transport/wake_fd.h"

namespace procxy::detail {
namespace {

// A client has this long to introduce itself.
constexpr std::chrono::seconds kHandshakeTimeout{10};
// How soon an idle child tries again to leave when a start holds the lock.
constexpr std::chrono::milliseconds kLockRetry{100};

std::string me() { return std::string("procxy: ") + side_name(); }

// Checks who connected and what they were built from. False (after telling
// the peer why) when they may not use this object.
bool welcome(Peer& peer, const ClassEntry& entry) {
  auto turn_away = [&](const Refusal& refusal) {
    std::fprintf(stderr, "%s\n", refusal.text.c_str());  // the child's log: its clients may be gone
    refuse(peer.channel(), refusal);
    return false;
  };
  std::optional<ucred> credentials = peer_credentials(peer.channel().fd());
  if (!credentials) return false;
  const ucred& who = *credentials;
  if (who.uid != ::geteuid()) {
    return turn_away({wire::Failure::Kind::REFUSED, me() + ": refused process " + std::to_string(who.pid) + " of uid " +
                                                        std::to_string(who.uid) + ": this shared child serves uid " +
                                                        std::to_string(::geteuid()) +
                                                        " only; each user has their own"});
  }
  try {
    std::optional<Frame> select =
        read_start_frame(peer.channel(), FrameKind::kSelect, Channel::Clock::now() + kHandshakeTimeout);
    if (!select) return false;
    if (auto refusal = check(decode_selection(*select), entry.name, entry.interface_hash, who.pid)) {
      return turn_away(*refusal);
    }
  } catch (const std::exception& e) {
    return turn_away({wire::Failure::Kind::PROTOCOL, e.what()});
  }
  return write_ready(peer.channel());
}

class SharedServer {
 public:
  SharedServer(const Listener& listener, std::shared_ptr<Peer> starter, const ClassEntry& entry, void* object,
               unsigned concurrency, const SharedSetup& setup)
      : listener_(listener),
        starter_(std::move(starter)),
        entry_(entry),
        object_(object),
        concurrency_(concurrency),
        gate_(concurrency),
        setup_(setup),
        wake_(side_name()) {}

  ~SharedServer() { join_finished(); }

  void run() PROCXY_EXCLUDES(mutex_) {
    std::optional<Clock::time_point> idle_since;
    for (;;) {
      join_finished();
      int timeout = -1;
      if (idle()) {
        if (!idle_since) idle_since = Clock::now();
        auto left = std::chrono::ceil<std::chrono::milliseconds>(*idle_since + setup_.idle_exit - Clock::now());
        timeout = static_cast<int>(std::max<std::int64_t>(0, left.count()));
      } else {
        idle_since.reset();
      }
      pollfd fds[3] = {{listener_.fd, POLLIN, 0}, {wake_.fd(), POLLIN, 0}, {starter_fd(), POLLIN, 0}};
      int ready = ::poll(fds, 3, timeout);
      if (ready < 0 && errno != EINTR) throw Error(me() + ": cannot wait for clients: " + std::strerror(errno));
      if (ready == 0) {
        if (leave()) return;
        idle_since = Clock::now() - setup_.idle_exit + kLockRetry;
        continue;
      }
      if (fds[1].revents) wake_.drain();
      if (fds[2].revents) {
        char byte;
        if (::read(starter_fd(), &byte, 1) <= 0) starter_.reset();  // it sends nothing more: gone
      }
      if (fds[0].revents) accept_one();
    }
  }

 private:
  using Clock = std::chrono::steady_clock;

  int starter_fd() const { return starter_ ? starter_->channel().fd() : -1; }

  bool idle() PROCXY_EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    return clients_ == 0 && !starter_;
  }

  void accept_one() PROCXY_EXCLUDES(mutex_) {
    int fd = ::accept4(listener_.fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;  // the client gave up already, or fds ran out: it retries
    MutexLock lock(mutex_);
    ++clients_;
    int serial = next_serial_++;
    threads_.emplace(serial, std::thread([this, fd, serial] { serve(fd, serial); }));
  }

  // On the client's thread.
  void serve(int fd, int serial) PROCXY_EXCLUDES(mutex_) {
    auto peer = std::make_shared<Peer>(fd);
    if (welcome(*peer, entry_)) {
      add_peer(peer);
      serve_peer(*peer, entry_, object_, concurrency_, gate_);
      remove_peer(peer.get());
    }
    peer.reset();  // closes the connection now, not when the thread is joined
    {
      MutexLock lock(mutex_);
      --clients_;
      finished_.push_back(serial);
    }
    wake_.wake();
  }

  void join_finished() PROCXY_EXCLUDES(mutex_) {
    std::vector<std::thread> done;
    {
      MutexLock lock(mutex_);
      for (int serial : finished_) {
        done.push_back(std::move(threads_.at(serial)));
        threads_.erase(serial);
      }
      finished_.clear();
    }
    for (std::thread& thread : done) thread.join();
  }

  // Idle for long enough: leaves unless a client is connecting. The start
  // lock is held meanwhile, so a process starting a new child waits until
  // this one's socket is gone, and never has its own removed by this one.
  bool leave() {
    int lock = ::open(setup_.lock.c_str(), O_RDWR | O_CLOEXEC);
    if (lock < 0) return true;  // the directory is gone: nobody can reach this child anyway
    if (::flock(lock, LOCK_EX | LOCK_NB) != 0) {
      ::close(lock);
      return false;  // a start is in progress: it may be about to connect here
    }
    pollfd pending{listener_.fd, POLLIN, 0};
    if (::poll(&pending, 1, 0) > 0) {
      ::close(lock);
      return false;
    }
    struct stat now {};
    if (::stat(setup_.socket.c_str(), &now) == 0 && now.st_ino == listener_.inode) ::unlink(setup_.socket.c_str());
    ::close(listener_.fd);
    log(LogCategory::kAttach, "no client for %lld ms: the shared child exits",
        static_cast<long long>(setup_.idle_exit.count()));
    ::close(lock);
    return true;
  }

  const Listener listener_;
  // Only run()'s thread uses it (idle() reads it under the mutex, but no
  // other thread writes it): not guarded.
  std::shared_ptr<Peer> starter_;
  const ClassEntry& entry_;
  void* const object_;
  const unsigned concurrency_;
  CallGate gate_;
  const SharedSetup& setup_;
  WakeFd wake_;
  // Taken by run()'s thread and the clients' threads; nothing else is taken
  // while it is held.
  Mutex mutex_;
  int clients_ PROCXY_GUARDED_BY(mutex_) = 0;
  int next_serial_ PROCXY_GUARDED_BY(mutex_) = 0;
  std::map<int, std::thread> threads_ PROCXY_GUARDED_BY(mutex_);  // by serial
  std::vector<int> finished_ PROCXY_GUARDED_BY(mutex_);           // serials of threads to join
};

}  // namespace

Listener listen_shared(const SharedSetup& setup) {
  // Bound under a name of its own and renamed into place: a stale socket file
  // is replaced in one step, and clients never see a socket not yet listening.
  std::string bound = setup.socket + "." + std::to_string(getpid());
  std::optional<sockaddr_un> address = unix_address(bound);
  if (!address) throw Error(me() + ": the socket path '" + bound + "' is too long for a unix socket");
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw Error(me() + ": cannot create a socket: " + std::strerror(errno));
  ::unlink(bound.c_str());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&*address), sizeof *address) != 0 || ::chmod(bound.c_str(), 0600) != 0 ||
      ::listen(fd, SOMAXCONN) != 0 || ::rename(bound.c_str(), setup.socket.c_str()) != 0) {
    int error = errno;
    ::close(fd);
    ::unlink(bound.c_str());
    throw Error(me() + ": cannot listen on '" + setup.socket + "': " + std::strerror(error));
  }
  struct stat own {};
  ::stat(setup.socket.c_str(), &own);
  return {fd, own.st_ino};
}

void serve_shared(const Listener& listener, std::shared_ptr<Peer> starter, const ClassEntry& entry, void* object,
                  unsigned concurrency, const SharedSetup& setup) {
  SharedServer(listener, std::move(starter), entry, object, concurrency, setup).run();
}

}  // namespace procxy::detail
