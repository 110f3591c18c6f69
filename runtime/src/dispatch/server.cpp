#include "dispatch/server.h"

#include <malloc.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dispatch/call_queue.h"
#include "dispatch/clients.h"
#include "dispatch/shared_server.h"
#include "log.h"
#include "process/spawn.h"
#include "registry.h"
#include "remote_error.h"
#include "transport/channel.h"
#include "wire/message.h"

namespace procxy::detail {
namespace {

// Exit codes of a child that gives up; the parent reports them.
constexpr int kExitStartFailed = 1;
constexpr int kExitProtocol = 70;

[[noreturn]] void fail_start(Channel& channel, wire::Failure::Kind kind, const std::string& text) {
  capnp::MallocMessageBuilder message;
  encode_failure(message, kind, text);
  channel.write(FrameKind::kError, 0, 0, message.getSegmentsForOutput());
  std::fflush(nullptr);
  _exit(kExitStartFailed);
}

std::string me() { return "procxy: child " + std::to_string(getpid()); }

// "child <pid>", for messages; made once, not for every frame.
const char* child_side() {
  static const std::string side = this_side();
  return side.c_str();
}

Frame read_start_frame(Channel& channel, FrameKind expected) {
  Frame frame;
  if (channel.read(frame, Channel::Clock::time_point::max(), -1, "child") != Channel::ReadStatus::kFrame) {
    _exit(kExitStartFailed);  // the parent went away during the start
  }
  if (frame.header.kind != expected) {
    fail_start(channel, wire::Failure::Kind::PROTOCOL,
               me() + ": expected frame kind " + std::to_string(static_cast<int>(expected)) + " while starting, got " +
                   std::to_string(static_cast<int>(frame.header.kind)));
  }
  try {
    validate_message(frame, child_side());
  } catch (const ProtocolError& e) {
    fail_start(channel, wire::Failure::Kind::PROTOCOL, e.what());
  }
  return frame;
}

std::atomic<bool> g_serving{false};
// The served object, for events: set once the object exists.
std::atomic<const void*> g_object{nullptr};
// The events some client listens to, by ordinal: the others are not even encoded.
std::atomic<bool> g_subscribed[1 << 16];

// The clients events go to. Emitting takes a snapshot: no allocation, and a
// client that leaves meanwhile stays valid until the write is done.
class Clients {
 public:
  using List = std::vector<std::shared_ptr<Client>>;
  std::shared_ptr<const List> snapshot() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return list_;
  }
  void add(std::shared_ptr<Client> client) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto list = std::make_shared<List>(*list_);
    list->push_back(std::move(client));
    list_ = std::move(list);
  }
  void remove(const Client* client) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto list = std::make_shared<List>(*list_);
    std::erase_if(*list, [&](const auto& c) { return c.get() == client; });
    list_ = std::move(list);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const List> list_ = std::make_shared<List>();
};

Clients& clients() {
  static Clients* clients = new Clients();  // used by object threads until _exit
  return *clients;
}

// Runs one call and writes its reply. False when the parent is gone.
bool run_call(Channel& channel, const ClassEntry& entry, void* object, Frame& frame) {
  OutgoingMessage reply;
  try {
    Reply params(std::move(frame.payload));
    entry.dispatch(object, frame.header.ordinal, params, reply);
    if (std::size_t size = Channel::payload_bytes(reply.getSegmentsForOutput()); size > kMaxFrameSize) {
      throw frame_too_large(size, me() + ": the results");  // reported like any exception
    }
  } catch (...) {
    capnp::MallocMessageBuilder failure;
    encode_current_exception(failure);
    return channel.write(FrameKind::kError, 0, frame.header.id, failure.getSegmentsForOutput());
  }
  return channel.write(FrameKind::kResult, 0, frame.header.id, reply.getSegmentsForOutput());
}

// Reads frames until the next call. False at Shutdown or when the parent is
// gone; exits the process on a frame no parent sends. `wake_fd` >= 0: also
// false once it is signalled (`woken` is then set).
bool next_call(Client& client, CallQueue& calls, Frame& frame, int wake_fd = -1, bool* woken = nullptr) {
  try {
    for (;;) {
      Channel::ReadStatus status = client.channel().read(frame, Channel::Clock::time_point::max(), wake_fd, "child");
      if (status == Channel::ReadStatus::kWoken) {
        *woken = true;
        return false;
      }
      if (status != Channel::ReadStatus::kFrame || frame.header.kind == FrameKind::kShutdown) return false;
      validate_message(frame, child_side());
      switch (frame.header.kind) {
        case FrameKind::kCall:
          return true;
        case FrameKind::kSubscribe:
          client.subscribe(frame.header.ordinal);
          // Written once the subscription is in effect: every call that
          // starts after it, from any client, sends the event to this one.
          if (frame.header.id != 0)
            client.channel().write(FrameKind::kSubscribed, frame.header.ordinal, frame.header.id);
          continue;
        case FrameKind::kCancel:
          calls.cancel(frame.header.id);
          continue;
        default:
          throw ProtocolError(me() + ": unexpected frame kind " + std::to_string(static_cast<int>(frame.header.kind)) +
                              " from the parent");
      }
    }
  } catch (const std::exception& e) {
    // The parent's side of this channel is broken: nothing it sends can be
    // trusted. A shared child drops that client and serves the others.
    if (shared_serving()) {
      std::fprintf(stderr, "%s; dropping that client\n", e.what());
      return false;
    }
    std::fprintf(stderr, "%s; the child exits\n", e.what());
    _exit(kExitProtocol);
  }
}

// Options::concurrency == 1: the reading thread runs each call itself, so a
// call costs no thread hop. While a call runs nobody reads the channel, until
// the call asks for its stop token: then the watcher reads for it, queueing
// the calls that arrive and applying cancellations, and hands the channel
// back when the call ends.
class Watcher {
 public:
  Watcher(Client& client, CallQueue& calls) : client_(client), calls_(calls) {}
  ~Watcher() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  // From the running call's thread: read the channel until disengage().
  void engage() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (engaged_ || ended_) return;
    if (!thread_.joinable()) {  // made on first use: most objects never ask
      wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      thread_ = std::thread([this] { run(); });
    }
    engaged_ = true;
    changed_.notify_all();
  }

  // From the serving thread, between calls: returns once the watcher has
  // stopped reading. False when it met the end of the conversation.
  bool disengage() {
    std::unique_lock<std::mutex> lock(mutex_);
    engaged_ = false;
    // Only a reading watcher is woken (and drains the eventfd after): a
    // wake-up left behind would end its next engagement at once.
    if (reading_) {
      std::uint64_t one = 1;
      [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
      changed_.wait(lock, [this] { return !reading_; });
    }
    return !ended_;
  }

 private:
  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      changed_.wait(lock, [this] { return stopping_ || engaged_; });
      if (stopping_) return;
      reading_ = true;
      lock.unlock();
      Frame frame;
      bool woken = false;
      bool more = true;
      while (more) {
        more = next_call(client_, calls_, frame, wake_fd_, &woken);
        if (more) calls_.push(std::move(frame));
        // A steady stream of frames never lets the wake-up through: look.
        if (more && !engaged()) {
          woken = true;
          more = false;
        }
      }
      std::uint64_t count;
      [[maybe_unused]] ssize_t n = ::read(wake_fd_, &count, sizeof count);
      lock.lock();
      if (!woken) ended_ = true;  // Shutdown, or the parent is gone
      reading_ = false;
      engaged_ = false;
      changed_.notify_all();
    }
  }

  bool engaged() {
    std::lock_guard<std::mutex> lock(mutex_);
    return engaged_;
  }

  Client& client_;
  CallQueue& calls_;
  int wake_fd_ = -1;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool engaged_ = false;
  bool reading_ = false;
  bool ended_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

std::atomic<Watcher*> g_watcher{nullptr};

void keep_freed_memory() {
  // glibc returns freed memory at the top of the heap to the kernel, and
  // serves large blocks with mmap: a child that receives a 1 MiB argument
  // would then take fresh pages for it on every call, at a page fault per
  // 4 KiB (on a VM, ~10 µs each: 3 ms per MiB, ten times the transfer). A
  // child exists to serve calls, so it keeps what a call freed for the next.
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum
  ::mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

void serve_one_at_a_time(Client& client, const ClassEntry& entry, void* object) {
  CallQueue calls;
  Watcher watcher(client, calls);
  g_watcher.store(&watcher, std::memory_order_release);
  Frame frame;
  CallQueue::Running running;
  bool open = true;  // the parent may send more
  for (;;) {
    if (!calls.try_next(frame, running)) {  // the calls the watcher queued come first
      if (!open || !next_call(client, calls, frame)) break;
      calls.begin(frame, running);
    }
    bool parent_there = run_call(client.channel(), entry, object, frame);
    calls.finish();
    open = watcher.disengage() && open;
    if (!parent_there) break;
  }
  g_watcher.store(nullptr, std::memory_order_release);
}

}  // namespace

bool serving() { return g_serving.load(std::memory_order_relaxed); }

void Client::subscribe(std::uint16_t ordinal) {
  subscribed_[ordinal / 64].fetch_or(std::uint64_t{1} << (ordinal % 64), std::memory_order_relaxed);
  g_subscribed[ordinal].store(true, std::memory_order_relaxed);
}

bool Client::listens(std::uint16_t ordinal) const {
  return (subscribed_[ordinal / 64].load(std::memory_order_relaxed) >> (ordinal % 64)) & 1;
}

void add_client(std::shared_ptr<Client> client) { clients().add(std::move(client)); }
void remove_client(const Client* client) { clients().remove(client); }

void serve_client(Client& client, const ClassEntry& entry, void* object, unsigned workers, CallGate& gate) {
  CallQueue calls;
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < workers; ++i) {
    threads.emplace_back([&] {
      Frame frame;
      CallQueue::Running running;
      while (calls.wait_next(frame, running)) {
        gate.acquire();
        bool parent_there = run_call(client.channel(), entry, object, frame);
        gate.release();
        calls.finish();
        if (!parent_there) {
          calls.close();
          client.channel().shutdown();  // ends the reading thread's wait too
        }
      }
    });
  }
  Frame frame;
  while (next_call(client, calls, frame)) calls.push(std::move(frame));
  calls.close();
  for (std::thread& thread : threads) thread.join();
}

bool emitting(const void* object, const EventInfo& event) {
  return object != nullptr && g_object.load(std::memory_order_acquire) == object &&
         g_subscribed[event.ordinal].load(std::memory_order_relaxed);
}

void emit(const EventInfo& event, capnp::MessageBuilder& params) {
  auto segments = params.getSegmentsForOutput();
  if (std::size_t size = Channel::payload_bytes(segments); size > kMaxFrameSize) {
    throw frame_too_large(size, me() + ": the parameters of event " + event.name);
  }
  // Held for the loop: a temporary in the range expression would be
  // destroyed before the loop runs (until C++23).
  std::shared_ptr<const Clients::List> listeners = clients().snapshot();
  for (const auto& client : *listeners) {
    // A client that is gone hears nothing.
    if (client->listens(event.ordinal)) client->channel().write(FrameKind::kEvent, event.ordinal, 0, segments);
  }
}

void not_an_event(std::string_view class_name) {
  throw Error("procxy: parent: the member passed to Proxy<" + std::string(class_name) +
              ">::on()/once() is a method, not a PROCXY_EVENT; subscribe to an event of the class");
}

void serve(int fd) {
  g_serving = true;
  keep_freed_memory();
  auto client = std::make_shared<Client>(fd);  // the parent; for a shared child, the one starting it
  Channel& channel = client->channel();
  const ClassEntry* entry = nullptr;
  void* object = nullptr;
  unsigned concurrency = 1;
  std::optional<SharedSetup> shared;
  Listener listener{-1, 0};
  try {
    Frame select_frame = read_start_frame(channel, FrameKind::kSelect);
    Reply select_reply(std::move(select_frame.payload));
    auto select = select_reply.root<wire::Select>();
    std::string name = select.getClassName();
    concurrency = std::max(1u, select.getConcurrency());
    entry = find_class(name);
    if (!entry) {
      fail_start(channel, wire::Failure::Kind::UNKNOWN_CLASS,
                 me() + ": class '" + name + "' is not registered in this executable; link its generated " +
                     "*.procxy.cpp into the child program (procxy_generate or procxy_add_agent)");
    }
    if (!built_alike(*entry, select.getInterfaceHash(), select.getRuntimeVersion())) {
      fail_start(channel, wire::Failure::Kind::INTERFACE_MISMATCH,
                 me() + ": interface mismatch for '" + name + "': the parent and this child were built from " +
                     "different versions of its header (or of procxy); rebuild both from the same sources");
    }
    if (select.hasSharedSocket()) {
      shared = SharedSetup{select.getSharedSocket(), select.getSharedLock(),
                           std::chrono::milliseconds(select.getIdleExitMs())};
    }
    Frame construct = read_start_frame(channel, FrameKind::kConstruct);
    Reply params(std::move(construct.payload));
    object = entry->construct(construct.header.ordinal, params);
    if (shared) listener = listen_shared(*shared);
  } catch (...) {
    capnp::MallocMessageBuilder message;
    encode_current_exception(message);
    channel.write(FrameKind::kError, 0, 0, message.getSegmentsForOutput());
    std::fflush(nullptr);
    _exit(kExitStartFailed);
  }
  g_object.store(object, std::memory_order_release);
  if (shared) {
    ::close(kSharedLockFd);                  // listening: whoever waits for the start may connect now
    channel.write(FrameKind::kReady, 0, 0);  // a starter that died meanwhile hears nothing
    log(LogCategory::kAttach, "shared %.*s serving on %s (%u call(s) at once)", static_cast<int>(entry->name.size()),
        entry->name.data(), shared->socket.c_str(), concurrency);
    serve_shared(listener, std::move(client), *entry, object, concurrency, *shared);
  } else {
    add_client(client);
    channel.write(FrameKind::kReady, 0, 0);
    log(LogCategory::kSpawn, "serving %.*s (%u call(s) at once)", static_cast<int>(entry->name.size()),
        entry->name.data(), concurrency);
    if (concurrency > 1) {
      CallGate gate(concurrency);
      serve_client(*client, *entry, object, concurrency, gate);
    } else {
      serve_one_at_a_time(*client, *entry, object);
    }
  }
  // Events the object emits while it is destroyed (or from its own threads
  // later) go nowhere.
  g_object.store(nullptr, std::memory_order_release);
  entry->destroy(object);
  std::fflush(nullptr);
  _exit(0);
}

}  // namespace procxy::detail

std::stop_token procxy::call_stop_token() {
  std::optional<std::stop_token> token = detail::CallQueue::current_token();
  if (!token) return {};
  // One call at a time: someone must read the channel for this call's Cancel.
  if (detail::Watcher* watcher = detail::g_watcher.load(std::memory_order_acquire)) watcher->engage();
  return *token;
}
