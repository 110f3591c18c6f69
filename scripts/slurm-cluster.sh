#!/usr/bin/env bash
# A throw-away one-node Slurm cluster on localhost, for tests that need srun.
#   scripts/slurm-cluster.sh start DIR   # prints "export SLURM_CONF=DIR/slurm.conf"
#   scripts/slurm-cluster.sh stop DIR    # kills the daemons, removes DIR
# Typical use:  eval "$(scripts/slurm-cluster.sh start /tmp/slurm)"; srun -N1 -n1 true
# Needs root (slurmd runs tasks as the submitting user and must be root to do
# so) and the Debian packages slurm-wlm and munge. Everything (config, munge
# key and socket, state, spool, logs, pid files) lives in DIR, so several
# clusters may coexist if they use different DIRs and ports.
# Ports: SlurmctldPort is SLURM_CLUSTER_PORT if set, else a random free port
# in 10000-32000 (below Linux's ephemeral range, so outgoing connections do
# not take it); SlurmdPort is the next one. srun itself listens on ephemeral
# ports. SLURM_CLUSTER_TIMEOUT: seconds start waits for the node (90).
# start first does a stop of DIR; neither removes a DIR that start did not make.
set -euo pipefail

die() { echo "slurm-cluster: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: $0 start|stop DIR"
cmd=$1
dir=$(realpath -m "$2")
timeout_s=${SLURM_CLUSTER_TIMEOUT:-90}

# Is something listening on TCP port $1? (/proc, since ss/netstat may be absent)
port_busy() {
  local hex
  hex=$(printf ':%04X ' "$1")
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
    awk -v p="$hex" '$2 ~ p && $4 == "0A" {f=1} END {exit !f}'
}

# Is pid $1 running? Not just there: a dead daemon stays a zombie until
# PID 1 reaps it, which in a container may take a while (or never happen).
alive() {
  local stat
  stat=$(cat /proc/"$1"/stat 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# The pid in pid file $1 if it still runs program $2 (a stale pid file may
# name a pid that was reused by an unrelated process).
live_pid() {
  local pid
  [ -s "$1" ] || return 0
  pid=$(cat "$1")
  if alive "$pid" && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$2" ]; then
    echo "$pid"
  fi
}

# SIGTERM the pids $@ together (slurmd and slurmctld each take ~2 s to
# shut down), SIGKILL whatever is left after 5 s.
kill_wait() {
  local p left
  [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null || true
  for _ in $(seq 50); do
    left=""
    for p in "$@"; do alive "$p" && left=1; done
    [ -n "$left" ] || return 0
    sleep 0.1
  done
  kill -KILL "$@" 2>/dev/null || true
}

# Does process $1 (a /proc/PID path) have its cwd or an open file in DIR?
uses_dir() {
  local f
  for f in "$1"/cwd "$1"/fd/*; do
    case $(readlink "$f" 2>/dev/null) in "$dir"/*) return 0 ;; esac
  done
  return 1
}

# SIGKILL process $1 and all its descendants.
kill_tree() {
  local c
  for c in $(ps -o pid= --ppid "$1"); do kill_tree "$c"; done
  kill -KILL "$1" 2>/dev/null || true
}

stop() {
  [ -d "$dir" ] || return 0
  # Never wipe a directory that start did not make.
  [ -e "$dir/.slurm-cluster" ] || [ -z "$(ls -A "$dir")" ] ||
    die "$dir exists and was not made by $0: not removing it"
  # Cancel running jobs first, so that their sruns are told and exit (an srun
  # whose step is killed under it waits for ever), and give them 3 s.
  local p
  if [ -n "$(live_pid "$dir/slurmctld.pid" slurmctld)" ]; then
    SLURM_CONF=$dir/slurm.conf timeout 5 scancel --quiet \
      --user="$(id -un)" >/dev/null 2>&1 || true
    for _ in $(seq 30); do
      [ -n "$(SLURM_CONF=$dir/slurm.conf timeout 5 squeue -h 2>/dev/null)" ] || break
      sleep 0.1
    done
  fi
  # slurmstepd and the tasks outlive slurmd: kill what is left directly.
  # Ours are the ones whose cwd or log fd is inside DIR.
  for p in /proc/[0-9]*; do
    if [ "$(cat "$p/comm" 2>/dev/null)" = slurmstepd ] && uses_dir "$p"; then
      kill_tree "${p#/proc/}"
    fi
  done
  # shellcheck disable=SC2046  # word splitting wanted: 0 to 3 pids
  kill_wait $(live_pid "$dir/slurmd.pid" slurmd) \
    $(live_pid "$dir/slurmctld.pid" slurmctld) $(live_pid "$dir/munged.pid" munged)
  rm -rf "$dir"
}

dump_logs() {
  local f
  for f in "$dir"/log/*; do echo "===== $f" >&2; tail -n 50 "$f" >&2 || true; done
}

start() {
  local p
  for p in munged mungekey slurmctld slurmd srun sinfo; do
    command -v "$p" >/dev/null ||
      die "no $p: apt-get install -y --no-install-recommends slurm-wlm munge"
  done
  [ "$(id -u)" -eq 0 ] || die "must run as root (slurmd, SlurmUser=root)"
  # A unix socket path is limited to 107 bytes.
  [ ${#dir} -le 90 ] || die "DIR path too long for the munge socket: $dir"
  stop  # leftovers of an earlier run in the same DIR
  mkdir -p "$dir"
  touch "$dir/.slurm-cluster"
  mkdir "$dir"/{state,spool,log}
  # munged wants the socket dir searchable by all, writable by no one else.
  chmod 0711 "$dir"

  # munge: runs as root here, so the key is root's, mode 0400 (munged
  # rejects a key readable by others or owned by another user).
  mungekey --create --keyfile="$dir/munge.key"
  chmod 0400 "$dir/munge.key"
  munged --socket="$dir/munge.socket" --key-file="$dir/munge.key" \
    --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" \
    --seed-file="$dir/munged.seed" </dev/null >>"$dir/log/munged.log" 2>&1 ||
    { dump_logs; die "munged did not start"; }

  local host port ncpu mem
  host=$(hostname -s)
  port=${SLURM_CLUSTER_PORT:-}
  if [ -z "$port" ]; then
    for _ in $(seq 50); do
      port=$((10000 + RANDOM % 22000))
      port_busy "$port" || port_busy $((port + 1)) || break
    done
  fi
  ncpu=$(nproc)
  # 90% of the memory: a RealMemory above what slurmd finds drains the node.
  mem=$(awk '/^MemTotal:/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)

  cat >"$dir/slurm.conf" <<EOF
ClusterName=test
# The controller is this host by name (slurmctld checks its own hostname
# against it) but is reached at 127.0.0.1, so no name resolution is needed.
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
# srun reads AuthInfo too, so SLURM_CONF is all clients need to find munge.
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
# No cgroups: the container's cgroup tree is not ours to manage.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
SwitchType=switch/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# A fresh node comes up UNKNOWN; 2 makes it IDLE as soon as slurmd registers.
ReturnToService=2
# Tests want a cancelled or orphaned step gone fast: SIGKILL 1 s after
# SIGTERM; a job whose srun (and its helper child) died is killed after
# InactiveLimit, checked every 30 s, so 30-60 s.
KillWait=1
InactiveLimit=30
# Silences "Configured MailProg is invalid" (mailutils is not installed).
MailProg=/bin/true
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$host NodeAddr=127.0.0.1 CPUs=$ncpu RealMemory=$mem State=UNKNOWN
# FORCE:8 lets up to 8 jobs share a core, so concurrent tests (or a step
# still completing after a kill) never leave srun "queued and waiting".
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:8
EOF
  export SLURM_CONF=$dir/slurm.conf

  # -c: no state to recover. Both daemonize and write their pid files.
  slurmctld -c -f "$SLURM_CONF" </dev/null >>"$dir/log/slurmctld.log" 2>&1 ||
    { dump_logs; die "slurmctld did not start"; }
  # -N: the node name, rather than relying on hostname matching.
  slurmd -f "$SLURM_CONF" -N "$host" </dev/null >>"$dir/log/slurmd.log" 2>&1 ||
    { dump_logs; die "slurmd did not start"; }

  local t0=$SECONDS why=""
  while :; do
    # A daemon that died (e.g. its port was taken: "Address already in use"
    # in its log) will not come back: fail at once.
    # (The pid files appear only a moment after the daemons fork away.)
    for p in slurmctld slurmd; do
      if { [ -s "$dir/$p.pid" ] || [ $((SECONDS - t0)) -gt 10 ]; } &&
         [ -z "$(live_pid "$dir/$p.pid" $p)" ]; then why="$p died"; fi
    done
    [ $((SECONDS - t0)) -lt "$timeout_s" ] || why="not up after ${timeout_s}s"
    if [ -n "$why" ]; then
      echo "slurm-cluster: $why" >&2
      timeout 5 sinfo -N -l >&2 || true
      dump_logs
      exit 1
    fi
    if [ "$(timeout 5 sinfo -h -N -n "$host" -o %t 2>/dev/null)" = idle ] &&
       timeout 20 srun -N1 -n1 true </dev/null >/dev/null 2>&1; then
      break
    fi
    sleep 0.2
  done
  echo "export SLURM_CONF=$SLURM_CONF"
}

case $cmd in
  start) start ;;
  stop) stop ;;
  *) die "usage: $0 start|stop DIR" ;;
esac
