#pragma once

// What the tests of shared children share: unique names, where attach()
// keeps its files, and cleaning up the children they leave.

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "service.procxy.h"
#include "test_support.h"

namespace e2e {

using namespace std::chrono_literals;

inline std::string unique_name(const char* what) {
  static int serial = 0;
  return std::string("e2e-") + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(++serial);
}

// Where attach() keeps its files, as docs/shared-children.md says.
inline std::string runtime_dir() {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  if (xdg && xdg[0] == '/') return std::string(xdg) + "/procxy";
  std::string run_user = "/run/user/" + std::to_string(::geteuid());
  struct stat info {};
  if (::lstat(run_user.c_str(), &info) == 0 && S_ISDIR(info.st_mode) && info.st_uid == ::geteuid() &&
      (info.st_mode & 022) == 0) {
    return run_user + "/procxy";
  }
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp && tmp[0] == '/' ? tmp : "/tmp") + "/procxy-" + std::to_string(::geteuid());
}
inline std::string socket_of(const std::string& name) { return runtime_dir() + "/" + name + ".sock"; }
inline std::string log_of(const std::string& name) {
  std::ifstream in(runtime_dir() + "/" + name + ".log");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline bool exists(const std::string& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0;
}

inline procxy::Options shared_options(std::chrono::milliseconds idle_exit = 10s) {
  procxy::Options options;
  options.idle_exit = idle_exit;
  return options;
}

// Shared children outlive this process: each test kills the ones it made,
// and removes their files.
inline void forget(const std::string& name) {
  for (const char* suffix : {".sock", ".lock", ".log", ".failed"})
    std::filesystem::remove(runtime_dir() + "/" + name + suffix);
}
inline void kill_shared(pid_t pid, const std::string& name) {
  ::kill(pid, SIGKILL);
  CHECK(eventually([&] { return !process_running(pid); }, bound(10s)));
  forget(name);
}

// A scratch directory /tmp/procxy-<what>-XXXXXX that uid 65534 can enter,
// holding `subdir` (mode 0700, that user's) and a copy of this program,
// `client` (this build's directory may be closed to that user).
inline std::filesystem::path scratch_for_nobody(const std::string& what, const std::string& subdir) {
  namespace fs = std::filesystem;
  std::string pattern = "/tmp/procxy-" + what + "-XXXXXX";
  REQUIRE(::mkdtemp(pattern.data()));
  fs::path root = pattern;
  fs::permissions(root, fs::perms(0755));
  fs::create_directory(root / subdir);
  fs::permissions(root / subdir, fs::perms(0700));
  REQUIRE(::chown((root / subdir).c_str(), 65534, 65534) == 0);
  fs::copy_file(E2E_SELF, root / "client");
  fs::permissions(root / "client", fs::perms(0755));
  return root;
}

}  // namespace e2e
