#pragma once

// A real sshd for the launcher tests, started by the test program itself: a
// host key and a client key generated into a temporary directory, a config
// of its own (no system service, no PAM, only that key), listening on a free
// port on 127.0.0.1. Children are then started through
// `ssh -p PORT -i KEY 127.0.0.1 --`, as on any machine a user can ssh to.
// It fails the test, never skips it, when OpenSSH is missing
// (scripts/install-deps.sh installs it).

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"

extern char** environ;

namespace e2e {

// The pids of the processes whose parent is `pid`.
inline std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> children;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream status(entry.path() / "status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("PPid:", 0) == 0) {
        if (std::stoi(line.substr(5)) == pid) children.push_back(std::stoi(name));
        break;
      }
    }
  }
  return children;
}

// The command name of process `pid` ("sshd"), or "" once it is gone.
inline std::string command_of(pid_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

class Sshd {
 public:
  // The one sshd of this test program, started on first use.
  static Sshd& instance() {
    static Sshd sshd;
    return sshd;
  }

  // The launcher that runs a child on "the other machine", 127.0.0.1.
  std::vector<std::string> launcher() const { return launcher_with(key_); }
  // The same with another client key (one sshd does not accept).
  std::vector<std::string> launcher_with(const std::string& key) const {
    return {"ssh", "-T", "-p", std::to_string(port_), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o",
            "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            // The sanitizers' settings, which the remote e2e_tests needs before its main().
            "-o", "SendEnv=ASAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS LSAN_OPTIONS", "-i", key, "127.0.0.1", "--"};
  }
  int port() const { return port_; }
  const std::filesystem::path& directory() const { return dir_; }

  // SIGKILLs the sshd processes that serve connections (not the listener):
  // every connection through this sshd breaks at once.
  void kill_sessions() const {
    for (pid_t session : children_of(pid_)) {
      if (command_of(session) == "sshd") kill_tree(session);
    }
  }

  ~Sshd() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

 private:
  Sshd() {
    const std::string sshd = "/usr/sbin/sshd";
    if (::access(sshd.c_str(), X_OK) != 0 || std::system("command -v ssh ssh-keygen > /dev/null") != 0) {
      FAIL("OpenSSH (sshd, ssh, ssh-keygen) is not installed: run scripts/install-deps.sh");
    }
    char pattern[] = "/tmp/procxy-sshd-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    dir_ = pattern;
    key_ = (dir_ / "client_key").string();
    std::string keygen = "ssh-keygen -q -t ed25519 -N '' -f ";
    REQUIRE(std::system((keygen + (dir_ / "host_key").string()).c_str()) == 0);
    REQUIRE(std::system((keygen + key_).c_str()) == 0);
    std::filesystem::copy_file(key_ + ".pub", dir_ / "authorized_keys");
    port_ = free_port();
    {
      std::ofstream config(dir_ / "sshd_config");
      config << "Port " << port_ << "\nListenAddress 127.0.0.1\n"
             << "HostKey " << (dir_ / "host_key").string() << "\n"
             << "AuthorizedKeysFile " << (dir_ / "authorized_keys").string() << "\n"
             << "PidFile " << (dir_ / "sshd.pid").string() << "\n"
             << "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
             << "StrictModes no\nPermitRootLogin yes\n"
             << "AcceptEnv ASAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS LSAN_OPTIONS\n";
    }
    // Privilege separation needs its empty directory when sshd runs as root.
    if (::geteuid() == 0) std::filesystem::create_directories("/run/sshd");
    std::string config = (dir_ / "sshd_config").string();
    std::string log = (dir_ / "sshd.log").string();
    std::vector<std::string> args = {sshd, "-D", "-f", config, "-E", log};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    REQUIRE(::posix_spawn(&pid_, sshd.c_str(), nullptr, nullptr, argv.data(), environ) == 0);
    bool listening = eventually([&] { return accepts(port_); }, bound(std::chrono::seconds(10)));
    if (!listening) {
      std::ifstream said(log);
      std::string text((std::istreambuf_iterator<char>(said)), std::istreambuf_iterator<char>());
      FAIL("sshd did not listen on 127.0.0.1:" << port_ << " within 10 s; its log:\n" << text);
    }
  }

  static int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    socklen_t size = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
    ::close(fd);
    return ntohs(address.sin_port);
  }

  static bool accepts(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return ok;
  }

  // SIGKILLs `pid` and its sshd descendants (a session's monitor and its
  // unprivileged half), leaving the commands they run.
  static void kill_tree(pid_t pid) {
    for (pid_t child : children_of(pid)) {
      if (command_of(child) == "sshd") kill_tree(child);
    }
    ::kill(pid, SIGKILL);
  }

  std::filesystem::path dir_;
  std::string key_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace e2e
