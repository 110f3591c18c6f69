#include "services/construct.h"

#include <signal.h>

#include <algorithm>

#include "log.h"
#include "process/limits.h"
#include "procxy/version.h"
#include "sandbox_death.h"
#include "wire/failure.h"

namespace procxy::detail {

Channel::Clock::time_point start_deadline(const Options& options) {
  return options.timeout.count() <= 0 ? Channel::Clock::time_point::max() : Channel::Clock::now() + options.timeout;
}

Selection selection_of(const ChildRecipe& recipe, const SharedPaths* shared) {
  Selection selection;
  selection.class_name = recipe.class_name;
  selection.interface_hash = recipe.interface_hash;
  selection.runtime_version = PROCXY_VERSION;
  selection.concurrency = static_cast<std::uint32_t>(recipe.options.concurrency);
  if (shared) selection.shared = SharedSetup{shared->socket, shared->lock, recipe.options.idle_exit};
  const Options& options = recipe.options;
  if (!options.launcher.empty()) {
    selection.launched = LaunchSetup{options.env, !options.inherit_env, options.cwd.string(),
                                     limits_variable(options.limits), options.heartbeat};
  }
  if (const Sandbox& sandbox = options.sandbox; sandbox.enabled) {
    SandboxSetup setup{{}, {}, sandbox.network, sandbox.exec, sandbox.allow_syscalls, sandbox.best_effort};
    for (const auto& path : sandbox.read_only) setup.read_only.push_back(path.string());
    for (const auto& path : sandbox.read_write) setup.read_write.push_back(path.string());
    selection.sandbox = std::move(setup);
  }
  return selection;
}

pid_t construct(Channel& channel, ChildHandle& process, const ChildRecipe& recipe, const std::string& what,
                Channel::Clock::time_point deadline, const SharedPaths* shared) {
  // Both frames go at once; the child answers with Ready or a Failure.
  write_select(channel, selection_of(recipe, shared));
  channel.write(FrameKind::kConstruct, recipe.construction.ordinal, 0,
                recipe.construction.message->getSegmentsForOutput());
  Answer answer;
  try {
    answer = read_answer(channel, deadline, what);
  } catch (const ProtocolError&) {
    process.signal(SIGKILL);
    throw;
  }
  switch (answer.status) {
    case Answer::kReady:
      log(LogCategory::kSpawn, "constructed %s", what.c_str());
      return answer.pid;
    case Answer::kTimeout:
      process.signal(SIGKILL);
      process.wait();
      throw SpawnError("procxy: parent: starting " + what + " timed out after " +
                       std::to_string(recipe.options.timeout.count()) +
                       " ms (the constructor is slow, or the program does not reach serve_if_child(); raise "
                       "Options::timeout if the constructor needs longer)");
    case Answer::kClosed: {
      ExitStatus exit = process.wait();
      if (answer.sandboxed || (recipe.options.sandbox.enabled && exit.exit_code == kExitSandboxed)) {
        throw SpawnError("procxy: parent: " + what + " " + exit.to_string() +
                         " before it served: " + sandbox_kill_text(answer.sandboxed ? &*answer.sandboxed : nullptr) +
                         " (a thread of the object called it, or the runtime did: if no code of the object "
                         "runs yet, please report this)");
      }
      if (!recipe.options.launcher.empty()) {
        // ssh's "Permission denied", the remote shell's "No such file", srun's "Unable to allocate".
        std::string said = process.stderr_tail();
        throw SpawnError(
            "procxy: parent: " + what + ": the launcher " + exit.to_string() +
            " before the child constructed the object; " +
            (said.empty() ? "it wrote nothing on stderr" : "its stderr ends:\n" + said.substr(0, said.size() - 1)) +
            "\n(check Options::launcher, and that Options::executable exists on the other machine "
            "and calls procxy::serve_if_child(argc, argv) first thing in main())");
      }
      throw SpawnError("procxy: parent: " + what + " " + exit.to_string() +
                       " before constructing the object; is it a procxy program that calls "
                       "procxy::serve_if_child(argc, argv) first thing in main()?" +
                       (shared ? " Its stderr is in " + shared->log : std::string()));
    }
    case Answer::kFailure: {
      std::exception_ptr error =
          to_exception(std::move(answer.failure), FailureContext::kStart, recipe.class_name, process.pid());
      process.wait();  // the child exits after reporting
      std::rethrow_exception(error);
    }
  }
  return 0;
}

}  // namespace procxy::detail
