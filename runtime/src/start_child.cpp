// Starting a child: select the class, construct the object, and hand back a
// live link; procxy::detail::spawn() wraps it in a connection, shared with
// identical spawns unless Options::dedupe is off. procxy::detail::attach()
// does the same for a shared child (attach.cpp finds or starts it).

#include <signal.h>

#include "attach.h"
#include "dedup.h"
#include "dispatch/client.h"
#include "log.h"
#include "process/spawn.h"
#include "procxy/version.h"
#include "remote_error.h"
#include "wire/protocol.capnp.h"

namespace procxy::detail {

void write_select(Channel& channel, const ChildRecipe& recipe, const SharedPaths* shared) {
  const Options& options = recipe.options;
  capnp::MallocMessageBuilder message;
  auto select = message.initRoot<wire::Select>();
  select.setClassName(recipe.class_name);
  select.setInterfaceHash(recipe.interface_hash);
  select.setRuntimeVersion(PROCXY_VERSION);
  select.setConcurrency(static_cast<std::uint32_t>(options.concurrency));
  if (shared) {
    select.setSharedSocket(shared->socket);
    select.setSharedLock(shared->lock);
    select.setIdleExitMs(static_cast<std::uint64_t>(std::max<std::int64_t>(0, options.idle_exit.count())));
  }
  channel.write(FrameKind::kSelect, 0, 0, message.getSegmentsForOutput());
}

void construct(Channel& channel, ChildProcess& process, const ChildRecipe& recipe, const std::string& what,
               Channel::Clock::time_point deadline, const SharedPaths* shared) {
  const Options& options = recipe.options;
  // Both frames go at once; the child answers with Ready or a Failure.
  write_select(channel, recipe, shared);
  channel.write(FrameKind::kConstruct, recipe.construction.ordinal, 0,
                recipe.construction.message->getSegmentsForOutput());

  Frame frame;
  Channel::ReadStatus status;
  try {
    status = channel.read(frame, deadline, -1, "parent");
  } catch (const ProtocolError&) {
    process.signal(SIGKILL);
    throw;
  }
  if (status == Channel::ReadStatus::kTimeout) {
    process.signal(SIGKILL);
    process.wait();
    throw SpawnError("procxy: parent: starting " + what + " timed out after " +
                     std::to_string(options.timeout.count()) +
                     " ms (the constructor is slow, or the program does not reach serve_if_child(); raise "
                     "Options::timeout if the constructor needs longer)");
  }
  if (status != Channel::ReadStatus::kFrame) {
    ExitStatus exit = process.wait();
    throw SpawnError("procxy: parent: " + what + " " + exit.to_string() +
                     " before constructing the object; is it a procxy program that calls "
                     "procxy::serve_if_child(argc, argv) first thing in main()?" +
                     (shared ? " Its stderr is in " + shared->log : std::string()));
  }
  if (frame.header.kind == FrameKind::kError) {
    std::exception_ptr error =
        to_exception(std::move(frame.payload), FailureContext::kStart, recipe.class_name, process.pid());
    process.wait();  // the child exits after reporting
    std::rethrow_exception(error);
  }
  if (frame.header.kind != FrameKind::kReady) {
    process.signal(SIGKILL);
    throw ProtocolError("procxy: parent: " + what + " answered the start with frame kind " +
                        std::to_string(static_cast<int>(frame.header.kind)));
  }
  log(LogCategory::kSpawn, "constructed %s", what.c_str());
}

Channel::Clock::time_point start_deadline(const Options& options) {
  return options.timeout.count() <= 0 ? Channel::Clock::time_point::max() : Channel::Clock::now() + options.timeout;
}

Link start_child(const ChildRecipe& recipe) {
  if (!recipe.shared_name.empty()) return attach_child(recipe);
  StartedProcess started = start_process(recipe.options);
  auto channel = std::make_unique<Channel>(started.channel_fd);
  std::string what =
      recipe.class_name + " in child " + std::to_string(started.process->pid()) + " (" + started.executable + ")";
  construct(*channel, *started.process, recipe, what, start_deadline(recipe.options), nullptr);
  return {std::move(channel), std::move(started.process)};
}

namespace {

void check_concurrency(const Options& options) {
  if (options.concurrency < 1) {
    throw SpawnError("procxy: parent: Options::concurrency is " + std::to_string(options.concurrency) +
                     "; it counts the calls a child runs at once, so it must be at least 1");
  }
}

// Starts (or, for attach(), finds) the child and opens the connection to it.
std::shared_ptr<Connection> open_connection(ChildRecipe recipe) {
  Link link = start_child(recipe);
  auto connection = std::make_shared<Connection>(std::move(recipe), std::move(link));
  connection->start();
  return connection;
}

}  // namespace

std::shared_ptr<Connection> spawn(const Options& options, std::string_view class_name, std::uint64_t interface_hash,
                                  Construction construction) {
  check_concurrency(options);
  auto start = [&] {
    return open_connection({options, std::string(class_name), interface_hash, std::move(construction), {}});
  };
  if (!options.dedupe) return start();
  return deduplicated(spawn_key(options, class_name, interface_hash, construction), class_name, start);
}

std::shared_ptr<Connection> attach(const Options& options, std::string_view name, std::string_view class_name,
                                   std::uint64_t interface_hash, Construction construction) {
  check_concurrency(options);
  check_shared_name(name);  // now: an empty name would make a private child
  return open_connection(
      {options, std::string(class_name), interface_hash, std::move(construction), std::string(name)});
}

}  // namespace procxy::detail
