// A file that includes only a generated header sees no Cap'n Proto or kj
// (generated .procxy.h files include procxy/detail/generated_declarations.h,
// not generated_support.h), and still can do everything a user does with a
// proxy. Compiled, never run: it breaks the build when the light header does
// not suffice or a heavy one creeps in.
#include "input.procxy.h"

#if defined(CAPNP_VERSION) || defined(KJ_DISALLOW_COPY)
#error "a generated .procxy.h pulls in Cap'n Proto or kj"
#endif

void use_a_proxy_through_its_generated_header_only();

void use_a_proxy_through_its_generated_header_only() {
  procxy::Proxy<jobs::Runner> runner = procxy::spawn<jobs::Runner>();
  runner->run(3);
  std::future<void> done = runner.async()->run(4);
  done.get();
  runner.with(procxy::CallOptions{})->run(5);
  procxy::Subscription step = runner.on(&jobs::Runner::step, [](int index) { static_cast<void>(index); });
  runner.once(&jobs::Runner::report, [](const jobs::Progress&, const std::map<std::string, std::vector<double>>&) {});
  step.off();
  procxy::Proxy<jobs::Runner> shared = procxy::attach<jobs::Runner>("runner", procxy::Options{});
  shared->run(1);
}
