// A launcher that plays a kernel without a sandbox feature: it makes the
// syscalls of one fail with ENOSYS, as a kernel built without it does, and
// executes the command after "--" (the child) under that filter.
//   e2e_without landlock|seccomp -- program args...

#include <seccomp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 4 || std::strcmp(argv[2], "--") != 0) {
    std::fprintf(stderr, "usage: %s landlock|seccomp -- program args...\n", argv[0]);
    return 2;
  }
  std::string feature = argv[1];
  std::vector<const char*> names;
  if (feature == "landlock") {
    names = {"landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"};
  } else if (feature == "seccomp") {
    names = {"seccomp"};
  } else {
    std::fprintf(stderr, "%s: unknown feature '%s'\n", argv[0], argv[1]);
    return 2;
  }
  scmp_filter_ctx filter = seccomp_init(SCMP_ACT_ALLOW);
  for (const char* name : names)
    seccomp_rule_add(filter, SCMP_ACT_ERRNO(ENOSYS), seccomp_syscall_resolve_name(name), 0);
  if (feature == "seccomp") {
    // The older way in: prctl(PR_SET_SECCOMP, ...).
    scmp_arg_cmp set_seccomp{0, SCMP_CMP_EQ, PR_SET_SECCOMP, 0};
    seccomp_rule_add_array(filter, SCMP_ACT_ERRNO(EINVAL), SCMP_SYS(prctl), 1, &set_seccomp);
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || seccomp_load(filter) != 0) {
    std::fprintf(stderr, "%s: cannot load the filter: %s\n", argv[0], std::strerror(errno));
    return 1;
  }
  seccomp_release(filter);
  execvp(argv[3], argv + 3);
  std::fprintf(stderr, "%s: cannot execute %s: %s\n", argv[0], argv[3], std::strerror(errno));
  return 127;
}
