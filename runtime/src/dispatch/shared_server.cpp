#include "dispatch/shared_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
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
#include "procxy/errors.h"
#include "registry.h"
#include "remote_error.h"
#include "transport/unix_socket.h"
#include "wire/message.h"
#include "wire/protocol.capnp.h"

namespace procxy::detail {
namespace {

std::atomic<bool> g_shared{false};

// A client has this long to introduce itself.
constexpr std::chrono::seconds kHandshakeTimeout{10};
// How soon an idle child tries again to leave when a start holds the lock.
constexpr std::chrono::milliseconds kLockRetry{100};

std::string me() { return "procxy: shared child " + std::to_string(getpid()); }

void refuse(Client& client, wire::Failure::Kind kind, const std::string& why) {
  std::fprintf(stderr, "%s\n", why.c_str());  // the child's log: its clients may be gone
  capnp::MallocMessageBuilder message;
  encode_failure(message, kind, why);
  client.channel().write(FrameKind::kError, 0, 0, message.getSegmentsForOutput());
}

// Checks who connected and what they were built from. False (after telling
// the client why) when they may not use this object.
bool welcome(Client& client, const ClassEntry& entry) {
  std::optional<ucred> credentials = peer_credentials(client.channel().fd());
  if (!credentials) return false;
  const ucred& peer = *credentials;
  if (peer.uid != ::geteuid()) {
    refuse(client, wire::Failure::Kind::REFUSED,
           me() + ": refused process " + std::to_string(peer.pid) + " of uid " + std::to_string(peer.uid) +
               ": this shared child serves uid " + std::to_string(::geteuid()) + " only; each user has their own");
    return false;
  }
  Frame frame;
  try {
    auto deadline = Channel::Clock::now() + kHandshakeTimeout;
    if (client.channel().read(frame, deadline, -1, "shared child") != Channel::ReadStatus::kFrame) return false;
    if (frame.header.kind != FrameKind::kSelect) {
      throw ProtocolError(me() + ": expected frame kind 1 from a new client, got " +
                          std::to_string(static_cast<int>(frame.header.kind)));
    }
    validate_message(frame, "shared child");
    Reply reply(std::move(frame.payload));
    auto select = reply.root<wire::Select>();
    std::string name = select.getClassName();
    if (name != entry.name) {
      refuse(client, wire::Failure::Kind::UNKNOWN_CLASS,
             me() + ": process " + std::to_string(peer.pid) + " asked for class '" + name + "', but this shared " +
                 "child serves '" + std::string(entry.name) + "'; give each class its own attach() name");
      return false;
    }
    if (!built_alike(entry, select.getInterfaceHash(), select.getRuntimeVersion())) {
      refuse(client, wire::Failure::Kind::INTERFACE_MISMATCH,
             me() + ": interface mismatch for '" + name + "': process " + std::to_string(peer.pid) +
                 " was built from another version of its header (or of procxy) than this shared child; rebuild " +
                 "both from the same sources, or attach under another name");
      return false;
    }
  } catch (const std::exception& e) {
    refuse(client, wire::Failure::Kind::PROTOCOL, e.what());
    return false;
  }
  return client.channel().write(FrameKind::kReady, 0, 0);
}

class SharedServer {
 public:
  SharedServer(const Listener& listener, std::shared_ptr<Client> starter, const ClassEntry& entry, void* object,
               unsigned concurrency, const SharedSetup& setup)
      : listener_(listener),
        starter_(std::move(starter)),
        entry_(entry),
        object_(object),
        concurrency_(concurrency),
        gate_(concurrency),
        setup_(setup),
        wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

  ~SharedServer() {
    join_finished();
    ::close(wake_fd_);
  }

  void run() {
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
      pollfd fds[3] = {{listener_.fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}, {starter_fd(), POLLIN, 0}};
      int ready = ::poll(fds, 3, timeout);
      if (ready < 0 && errno != EINTR) throw Error(me() + ": cannot wait for clients: " + std::strerror(errno));
      if (ready == 0) {
        if (leave()) return;
        idle_since = Clock::now() - setup_.idle_exit + kLockRetry;
        continue;
      }
      if (fds[1].revents) {
        std::uint64_t count;
        [[maybe_unused]] ssize_t n = ::read(wake_fd_, &count, sizeof count);
      }
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

  bool idle() {
    std::lock_guard<std::mutex> lock(mutex_);
    return clients_ == 0 && !starter_;
  }

  void accept_one() {
    int fd = ::accept4(listener_.fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;  // the client gave up already, or fds ran out: it retries
    std::lock_guard<std::mutex> lock(mutex_);
    ++clients_;
    int serial = next_serial_++;
    threads_.emplace(serial, std::thread([this, fd, serial] { serve(fd, serial); }));
  }

  void serve(int fd, int serial) {
    auto client = std::make_shared<Client>(fd);
    if (welcome(*client, entry_)) {
      add_client(client);
      serve_client(*client, entry_, object_, concurrency_, gate_);
      remove_client(client.get());
    }
    client.reset();  // closes the connection now, not when the thread is joined
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --clients_;
      finished_.push_back(serial);
    }
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }

  void join_finished() {
    std::vector<std::thread> done;
    {
      std::lock_guard<std::mutex> lock(mutex_);
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
  std::shared_ptr<Client> starter_;
  const ClassEntry& entry_;
  void* const object_;
  const unsigned concurrency_;
  CallGate gate_;
  const SharedSetup& setup_;
  const int wake_fd_;
  std::mutex mutex_;
  int clients_ = 0;
  int next_serial_ = 0;
  std::map<int, std::thread> threads_;
  std::vector<int> finished_;
};

}  // namespace

bool shared_serving() { return g_shared.load(std::memory_order_relaxed); }

Listener listen_shared(const SharedSetup& setup) {
  g_shared = true;
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

void serve_shared(const Listener& listener, std::shared_ptr<Client> starter, const ClassEntry& entry, void* object,
                  unsigned concurrency, const SharedSetup& setup) {
  SharedServer(listener, std::move(starter), entry, object, concurrency, setup).run();
}

}  // namespace procxy::detail
