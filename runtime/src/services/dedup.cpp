#include "services/dedup.h"

#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>

#include "log.h"
#include "mutex.h"
#include "parent/connection.h"

namespace procxy::detail {
namespace {

// One key's state: a start in progress, or the live instance. Read and
// written under the registry's mutex; the analysis cannot say so (a
// guarded_by here cannot name the Registry's member).
struct Entry {
  bool starting = true;
  std::exception_ptr failure;          // of the start, for the callers waiting for it
  std::weak_ptr<Connection> instance;  // the handle given out; expires with the last copy
};

struct Registry {
  // Held while a found instance is checked (Connection::alive(), pid()): taken
  // before Connection::mutex_.
  Mutex mutex;
  std::condition_variable started;
  std::map<std::string, std::shared_ptr<Entry>> entries PROCXY_GUARDED_BY(mutex);
};

Registry& registry() {
  static auto* instance = new Registry;  // never destroyed: handles may outlive static destruction
  return *instance;
}

void append(std::string& key, std::string_view field) {
  auto size = static_cast<std::uint64_t>(field.size());
  key.append(reinterpret_cast<const char*>(&size), sizeof size);
  key.append(field);
}

template <class T>
void append_value(std::string& key, const T& value) {
  key.append(reinterpret_cast<const char*>(&value), sizeof value);
}

// Unset and set apart, whatever the value.
template <class T>
void append_optional(std::string& key, const std::optional<T>& value) {
  append_value(key, value.has_value());
  if (value) append_value(key, *value);
}

}  // namespace

std::string spawn_key(const Options& options, std::string_view class_name, std::uint64_t interface_hash,
                      const Construction& construction) {
  std::string key;
  append(key, class_name);
  append_value(key, interface_hash);
  append(key, options.executable.native());
  append(key, options.cwd.native());
  append_value(key, options.args.size());
  for (const std::string& arg : options.args) append(key, arg);
  append_value(key, options.env.size());
  for (const auto& [name, value] : options.env) append(key, name), append(key, value);
  append_value(key, options.inherit_env);
  append_value(key, options.concurrency);
  append_value(key, options.timeout.count());
  append_value(key, options.retries);
  append_value(key, options.kill_on_timeout);
  append_value(key, options.restart);
  append_value(key, options.coalesce);
  // A child under other limits is another child.
  append_optional(key, options.limits.memory);
  append_optional(key, options.limits.cpu ? std::optional(options.limits.cpu->count()) : std::nullopt);
  append_optional(key, options.limits.open_files);
  append_optional(key, options.limits.max_rss);
  // So is a child on another machine, or through another wrapper.
  append_value(key, options.launcher.size());
  for (const std::string& word : options.launcher) append(key, word);
  append_value(key, options.heartbeat.count());
  // And a sandboxed child under its own rules.
  const Sandbox& sandbox = options.sandbox;
  append_value(key, sandbox.enabled);
  if (sandbox.enabled) {
    append_value(key, sandbox.read_only.size());
    for (const auto& path : sandbox.read_only) append(key, path.native());
    append_value(key, sandbox.read_write.size());
    for (const auto& path : sandbox.read_write) append(key, path.native());
    append_value(key, sandbox.network);
    append_value(key, sandbox.exec);
    append_value(key, sandbox.allow_syscalls.size());
    for (const std::string& name : sandbox.allow_syscalls) append(key, name);
    append_value(key, sandbox.best_effort);
  }
  append_value(key, construction.ordinal);
  for (const auto& segment : construction.message->getSegmentsForOutput()) {
    append(key, std::string_view(reinterpret_cast<const char*>(segment.asBytes().begin()), segment.asBytes().size()));
  }
  return key;
}

std::shared_ptr<Connection> deduplicated(const std::string& key, std::string_view what,
                                         const std::function<std::shared_ptr<Connection>()>& start) {
  Registry& reg = registry();
  std::shared_ptr<Connection> dead;  // released with the registry unlocked: it may be the last handle
  MutexLock lock(reg.mutex);
  for (;;) {
    auto found = reg.entries.find(key);
    if (found == reg.entries.end()) break;
    std::shared_ptr<Entry> entry = found->second;
    if (entry->starting) {
      log(LogCategory::kDedup, "dedup hit: waiting for the start of %.*s in progress", static_cast<int>(what.size()),
          what.data());
      reg.started.wait(lock.native(), [&] { return !entry->starting; });
      if (entry->failure) std::rethrow_exception(entry->failure);
      continue;  // now live (or already released again): look once more
    }
    std::shared_ptr<Connection> live = entry->instance.lock();
    if (live && live->alive()) {
      log(LogCategory::kDedup, "dedup cached: %.*s in child %d", static_cast<int>(what.size()), what.data(),
          static_cast<int>(live->pid()));
      return live;
    }
    reg.entries.erase(found);  // a dead instance: its key starts afresh
    dead = std::move(live);
    break;
  }

  log(LogCategory::kDedup, "dedup miss: starting %.*s", static_cast<int>(what.size()), what.data());
  auto entry = std::make_shared<Entry>();
  reg.entries[key] = entry;
  lock.unlock();
  dead.reset();
  std::shared_ptr<Connection> connection;
  std::exception_ptr failure;
  try {
    connection = start();
  } catch (...) {
    failure = std::current_exception();
  }
  lock.lock();
  entry->starting = false;
  reg.started.notify_all();
  if (failure) {
    entry->failure = failure;  // for the callers waiting now, not for later ones
    if (auto it = reg.entries.find(key); it != reg.entries.end() && it->second == entry) reg.entries.erase(it);
    std::rethrow_exception(failure);
  }
  // Handed out through a handle whose release also removes the entry: the
  // registry never keeps a child alive, and never fills with dead keys.
  std::weak_ptr<Entry> mine = entry;  // the key may have a newer entry by then: leave that one
  std::shared_ptr<Connection> handle(connection.get(), [key, mine, owned = connection](Connection*) mutable {
    {
      Registry& reg = registry();
      MutexLock lock(reg.mutex);
      auto it = reg.entries.find(key);
      if (it != reg.entries.end() && it->second == mine.lock()) reg.entries.erase(it);
    }
    owned.reset();  // with the registry unlocked: this lets the child go
  });
  entry->instance = handle;
  return handle;
}

}  // namespace procxy::detail
