#include "child/shared_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <system_error>
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

// A client has this long to introduce itself: a procxy client sends Select
// as soon as it is connected, so only a stranger or a stuck process takes
// longer, and it holds a thread and a descriptor meanwhile.
constexpr std::chrono::seconds kHandshakeTimeout{3};
// Before then a client can send nothing larger than a Select.
constexpr std::size_t kHandshakePayloadLimit = 64 * 1024;
// Replies and events that may wait for one client: a few hundred replies of
// ordinary size, or a burst of events. A client that lets more wait is not
// reading (stopped, or its event handler cannot keep up) and is dropped.
constexpr std::size_t kClientWriteLimit = 8 * 1024 * 1024;
// Clients served at once, at most; fewer when the file limit is lower: one
// descriptor per client, and as many again for the shared memory of their
// large payloads and for the object's own use.
constexpr int kMaxClients = 512;
// How long the listener rests when the process is out of descriptors, so
// that it does not spin on a connection it cannot accept.
constexpr std::chrono::milliseconds kAcceptPause{100};
// How soon an idle child tries again to leave when a start holds the lock.
constexpr std::chrono::milliseconds kLockRetry{100};

std::string me() { return std::string("procxy: ") + side_name(); }

int client_cap() {
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur == RLIM_INFINITY) return kMaxClients;
  auto fitting = static_cast<long long>(files.rlim_cur) / 2 - 16;
  return static_cast<int>(std::clamp<long long>(fitting, 1, kMaxClients));
}

std::string pid_text(int fd) {
  std::optional<ucred> who = peer_credentials(fd);
  return who ? "process " + std::to_string(who->pid) : "a process";
}

void turn_away(Channel& channel, const Refusal& refusal) {
  std::fprintf(stderr, "%s\n", refusal.text.c_str());  // the child's log: its clients may be gone
  refuse(channel, refusal);
}

// Turns away the client connected on `fd` before it is served.
void turn_away(int fd, const std::string& why) {
  Channel channel(fd);
  turn_away(channel, {wire::Failure::Kind::REFUSED, me() + ": refused " + pid_text(fd) + ": " + why});
}

// Checks who connected and what they were built from. The client's pid when
// they may use this object; nothing (after telling the peer why) otherwise.
std::optional<pid_t> admit(Peer& peer, const ClassEntry& entry, const std::optional<SandboxSetup>& sandbox) {
  std::optional<ucred> credentials = peer_credentials(peer.channel().fd());
  if (!credentials) return std::nullopt;
  const ucred& who = *credentials;
  if (who.uid != ::geteuid()) {
    turn_away(peer.channel(),
              {wire::Failure::Kind::REFUSED, me() + ": refused process " + std::to_string(who.pid) + " of uid " +
                                                 std::to_string(who.uid) + ": this shared child serves uid " +
                                                 std::to_string(::geteuid()) + " only; each user has their own"});
    return std::nullopt;
  }
  try {
    std::optional<Frame> select =
        read_start_frame(peer.channel(), FrameKind::kSelect, Channel::Clock::now() + kHandshakeTimeout);
    if (!select) return std::nullopt;
    if (auto refusal = check(decode_selection(*select), entry.name, entry.interface_hash, sandbox, who.pid)) {
      turn_away(peer.channel(), *refusal);
      return std::nullopt;
    }
  } catch (const std::exception& e) {
    turn_away(peer.channel(), {wire::Failure::Kind::PROTOCOL, e.what()});
    return std::nullopt;
  }
  return who.pid;
}

class SharedServer {
 public:
  SharedServer(const Listener& listener, std::shared_ptr<Peer> starter, const ClassEntry& entry, void* object,
               unsigned concurrency, const SharedSetup& setup, const std::optional<SandboxSetup>& sandbox)
      : listener_(listener),
        starter_(std::move(starter)),
        entry_(entry),
        object_(object),
        concurrency_(concurrency),
        gate_(concurrency),
        setup_(setup),
        sandbox_(sandbox),
        wake_(side_name()),
        cap_(client_cap()),
        reserve_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {}

  ~SharedServer() {
    join_finished();
    if (reserve_ >= 0) ::close(reserve_);
  }

  void run() PROCXY_EXCLUDES(mutex_) {
    // Clock::time_point::max() while a client or the starter is connected.
    Clock::time_point idle_since = Clock::time_point::max();
    std::vector<pollfd> fds;
    std::vector<std::shared_ptr<Peer>> writing;  // the clients whose replies wait for room, as polled
    for (;;) {
      join_finished();
      Clock::time_point now = Clock::now();
      if (!idle()) {
        idle_since = Clock::time_point::max();
      } else if (idle_since == Clock::time_point::max()) {
        idle_since = now;
      }
      Clock::time_point leave_at = idle_since == Clock::time_point::max() ? idle_since : idle_since + setup_.idle_exit;
      bool accepting = now >= accept_paused_until_;
      Clock::time_point wake_at = accepting ? leave_at : std::min(leave_at, accept_paused_until_);
      int timeout = -1;
      if (wake_at != Clock::time_point::max()) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(wake_at - now);
        timeout = static_cast<int>(std::max<std::int64_t>(0, left.count()));
      }

      writing = waiting_writes();
      fds.assign({{accepting ? listener_.fd : -1, POLLIN, 0}, {wake_.fd(), POLLIN, 0}, {starter_fd(), POLLIN, 0}});
      for (const auto& peer : writing) fds.push_back({peer->channel().fd(), POLLOUT, 0});
      int ready = ::poll(fds.data(), fds.size(), timeout);
      if (ready < 0 && errno != EINTR) throw Error(me() + ": cannot wait for clients: " + std::strerror(errno));
      if (ready == 0 && Clock::now() >= leave_at) {
        if (leave()) return;
        idle_since = Clock::now() - setup_.idle_exit + kLockRetry;
        continue;
      }
      if (ready <= 0) continue;
      if (fds[1].revents) wake_.drain();
      if (fds[2].revents) {
        char byte;
        if (::read(starter_fd(), &byte, 1) <= 0) starter_.reset();  // it sends nothing more: gone
      }
      for (std::size_t i = 0; i < writing.size(); ++i) {
        if (fds[3 + i].revents && !writing[i]->channel().flush()) writing[i]->channel().shutdown();
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

  std::vector<std::shared_ptr<Peer>> waiting_writes() PROCXY_EXCLUDES(mutex_) {
    std::vector<std::shared_ptr<Peer>> peers;
    {
      MutexLock lock(mutex_);
      for (const auto& [serial, peer] : peers_) peers.push_back(peer);
    }
    std::erase_if(peers, [](const auto& peer) { return !peer->channel().writes_waiting(); });
    return peers;
  }

  void accept_one() PROCXY_EXCLUDES(mutex_) {
    int fd = ::accept4(listener_.fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) out_of_descriptors(errno);
      return;  // otherwise the client gave up already
    }
    std::string refusal;
    {
      MutexLock lock(mutex_);
      if (clients_ < cap_) {
        try {
          int serial = next_serial_;
          threads_.emplace(serial, std::thread([this, fd, serial] { serve(fd, serial); }));
          ++next_serial_;
          ++clients_;
          return;
        } catch (const std::system_error& e) {
          refusal = std::string("cannot start a thread for it (") + e.what() +
                    "): the shared child is at its limit of threads (RLIMIT_NPROC) or memory; try again once some "
                    "clients have left";
        }
      } else {
        refusal = "it serves " + std::to_string(cap_) +
                  " clients, as many as it may (its file limit, RLIMIT_NOFILE, allows); try again once some have "
                  "left, or raise the limit of the process that starts it";
      }
    }
    turn_away(fd, refusal);
  }

  // No descriptor for the next connection: the reserved one makes room to
  // accept it and say why it is refused, and the listener rests a moment.
  void out_of_descriptors(int error) {
    accept_paused_until_ = Clock::now() + kAcceptPause;
    std::fprintf(stderr, "%s: cannot accept a client: %s; pausing for %lld ms\n", me().c_str(), std::strerror(error),
                 static_cast<long long>(kAcceptPause.count()));
    if (reserve_ < 0) return;
    ::close(reserve_);
    int fd = ::accept4(listener_.fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      turn_away(fd, std::string("it is out of file descriptors (") + std::strerror(error) +
                        "); try again once some clients have left, or raise its RLIMIT_NOFILE");
    }
    reserve_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }

  // On the client's thread.
  void serve(int fd, int serial) PROCXY_EXCLUDES(mutex_) {
    auto peer = std::make_shared<Peer>(fd);
    Channel& channel = peer->channel();
    channel.limit_payload(kHandshakePayloadLimit);
    if (std::optional<pid_t> client = admit(*peer, entry_, sandbox_)) {
      std::string who = "process " + std::to_string(*client);
      channel.never_wait_on_writes(
          kClientWriteLimit, [this] { wake_.wake(); },
          [who](std::size_t waiting) {
            std::fprintf(stderr,
                         "%s: dropping client %s: it has not read its replies and events (%zu bytes wait for it, "
                         "more than %zu): is it stopped, or is its event handler too slow? The other clients are "
                         "served on\n",
                         me().c_str(), who.c_str(), waiting, kClientWriteLimit);
          });
      std::optional<PeerServer> server;
      try {
        server.emplace(*peer, entry_, object_, concurrency_, gate_);
      } catch (const Error& e) {
        turn_away(channel, {wire::Failure::Kind::REFUSED, std::string(e.what()) + "; " + who + " is refused"});
      }
      if (server && write_ready(channel)) {
        channel.limit_payload(kMaxFrameSize);
        {
          MutexLock lock(mutex_);
          peers_.emplace(serial, peer);
        }
        add_peer(peer);
        server->run();
        remove_peer(peer.get());
      }
    }
    {
      MutexLock lock(mutex_);
      peers_.erase(serial);
    }
    // Closes the connection now (unless run() holds it for a flush), not
    // when the thread is joined; and before its place is free.
    peer.reset();
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
  const std::optional<SandboxSetup>& sandbox_;
  WakeFd wake_;
  const int cap_;  // clients at once
  int reserve_;    // a descriptor kept to be closed when there is none left
  Clock::time_point accept_paused_until_{};
  // Taken by run()'s thread and the clients' threads; nothing else is taken
  // while it is held.
  Mutex mutex_;
  int clients_ PROCXY_GUARDED_BY(mutex_) = 0;
  std::map<int, std::shared_ptr<Peer>> peers_ PROCXY_GUARDED_BY(mutex_);  // served clients, by serial
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
                  unsigned concurrency, const SharedSetup& setup, const std::optional<SandboxSetup>& sandbox) {
  SharedServer(listener, std::move(starter), entry, object, concurrency, setup, sandbox).run();
}

}  // namespace procxy::detail
