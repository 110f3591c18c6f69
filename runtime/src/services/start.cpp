// spawn() and attach(): start (or find) the child, and open the connection
// to it, handing it the start function for restarts. spawn() shares the
// connection with identical spawns unless Options::dedupe is off; attach()
// finds or starts a shared child (services/attach.cpp).

#include "services/start.h"

#include <capnp/message.h>

#include "log.h"
#include "parent/connection.h"
#include "process/spawn.h"
#include "services/attach.h"
#include "services/construct.h"
#include "services/dedup.h"
#include "services/options_check.h"
#include "services/pool.h"
#include "transport/heartbeat.h"

namespace procxy::detail {

extern const bool kServeIfChildCheckLinked;  // services/serve_if_child_check.cpp

namespace {

// Takes the check into every statically linked program that can start
// children: the linker pulls an object file from an archive only for a
// symbol some other file refers to.
[[maybe_unused]] __attribute__((used)) const bool* const kPullServeIfChildCheck = &kServeIfChildCheckLinked;

// Starts a child as `recipe` says and constructs its object; for a shared
// child, connects to it, starting it first when none runs.
Link start_child(const ChildRecipe& recipe) {
  if (!recipe.shared_name.empty()) return attach_child(recipe);
  StartedProcess started = start_process(recipe.options, recipe.class_name);
  const Options& options = recipe.options;
  bool launched = !options.launcher.empty();
  auto channel = launched ? std::make_unique<Channel>(Channel::Streams{started.channel_fd, started.channel_fd})
                          : std::make_unique<Channel>(started.channel_fd);
  if (launched) channel->allow_stalls_of(link_stall_limit(options.heartbeat));
  std::string what =
      recipe.class_name + " in child " + std::to_string(started.process->pid()) + " (" + started.executable + ")";
  pid_t remote_pid = construct(*channel, *started.process, recipe, what, start_deadline(options), nullptr);
  return {std::move(channel), std::move(started.process), remote_pid};
}

}  // namespace

std::shared_ptr<Connection> open_connection(ChildRecipe recipe) {
  Link link = start_child(recipe);
  std::shared_ptr<Connection> connection;
  try {
    connection = Connection::create(std::move(recipe), start_child, std::move(link));
  } catch (const Error& e) {
    // Its wake-up eventfd: the process is out of file descriptors. The
    // child, its channel closed, exits.
    throw SpawnError(e.what());
  }
  connection->start();
  return connection;
}

ChildRecipe copy_of(const ChildRecipe& recipe) {
  auto message = new capnp::MallocMessageBuilder();
  message->getRoot<capnp::AnyPointer>().set(recipe.construction.message->getRoot<capnp::AnyPointer>().asReader());
  Construction construction{recipe.construction.ordinal,
                            {message, MessageDeleter{[](capnp::MallocMessageBuilder* m) { delete m; }}}};
  return {recipe.options, recipe.class_name, recipe.interface_hash, std::move(construction), recipe.shared_name};
}

std::shared_ptr<Connection> spawn(const Options& given, std::string_view class_name, std::uint64_t interface_hash,
                                  Construction construction) {
  warn_unknown_log_categories();
  Options options = checked(given, "spawn");
  auto start = [&] {
    return open_connection({options, std::string(class_name), interface_hash, std::move(construction), {}});
  };
  if (!options.dedupe) return start();
  return deduplicated(spawn_key(options, class_name, interface_hash, construction), class_name, start);
}

std::shared_ptr<PoolCore> pool(const PoolOptions& given, std::string_view class_name, std::uint64_t interface_hash,
                               Construction construction) {
  warn_unknown_log_categories();
  PoolOptions options = checked(given);
  ChildRecipe recipe{options.child, std::string(class_name), interface_hash, std::move(construction), {}};
  PoolCore* core = new PoolCore(options, std::move(recipe));
  // As a Connection (Connection::create): leaked in a fork without exec.
  return std::shared_ptr<PoolCore>(core, [](PoolCore* pool) {
    if (pool->owner().here()) delete pool;
  });
}

std::shared_ptr<Connection> attach(const Options& given, std::string_view name, std::string_view class_name,
                                   std::uint64_t interface_hash, Construction construction) {
  warn_unknown_log_categories();
  Options options = checked(given, "attach");
  check_shared_name(name);  // now: an empty name would make a private child
  return open_connection(
      {options, std::string(class_name), interface_hash, std::move(construction), std::string(name)});
}

}  // namespace procxy::detail
