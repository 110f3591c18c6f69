#pragma once

// A real one-node Slurm cluster for the launcher tests: munged, slurmctld
// and slurmd on 127.0.0.1, brought up by scripts/slurm-cluster.sh in a
// temporary directory of their own (config, munge key, state, logs) and
// taken down when the test program exits. Children are then started through
// `srun -N1 -n1 --unbuffered --`, as on a cluster's login node. It fails the
// test, never skips it, when Slurm is missing or does not come up
// (scripts/install-deps.sh installs slurm-wlm and munge).

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "test_support.h"

namespace e2e {

class Slurm {
 public:
  // The one cluster of this test program, started on first use.
  static Slurm& instance() {
    static Slurm slurm;
    return slurm;
  }

  // The launcher that runs a child as a one-task Slurm job.
  static std::vector<std::string> launcher() { return {"srun", "-N1", "-n1", "--unbuffered", "--"}; }

  ~Slurm() {
    int status = 0;
    output_of(script_command("stop") + " 2>&1", status);
  }

 private:
  Slurm() {
    char pattern[] = "/tmp/procxy-slurm-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    dir_ = pattern;
    int status = 0;
    // Its stdout is the one line `export SLURM_CONF=...`; its stderr, when it
    // fails, says why and ends with the daemons' logs.
    std::string said = output_of(script_command("start") + " 2>&1", status);
    const std::string prefix = "export SLURM_CONF=";
    std::size_t at = said.rfind(prefix);
    if (status != 0 || at == std::string::npos) {
      FAIL("a one-node Slurm cluster did not come up in " << dir_ << " (" << kScript << " start):\n" << said);
    }
    std::string conf = said.substr(at + prefix.size());
    conf.erase(conf.find_last_not_of("\n") + 1);
    // srun, and through it every child, finds the cluster by this variable.
    ::setenv("SLURM_CONF", conf.c_str(), 1);
  }

  // slurmd must be root to run tasks as their user: the script runs through
  // sudo when the tests do not run as root.
  std::string script_command(const char* verb) const {
    std::string sudo = ::geteuid() == 0 ? "" : "sudo -n ";
    return sudo + "'" + kScript + "' " + verb + " '" + dir_ + "'";
  }

  static constexpr const char* kScript = E2E_SLURM_CLUSTER;
  std::string dir_;
};

}  // namespace e2e
