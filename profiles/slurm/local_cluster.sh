#!/usr/bin/env bash
# A real single-node SLURM cluster on this machine, bound to localhost, for trying the SLURM
# profile and for its test (tests/workflow/test_slurm.py). Debian packages: munge slurmctld
# slurmd slurm-client (run as root: slurmd starts the jobs).
#
#   local_cluster.sh start DIR   munged, slurmctld and slurmd with everything under DIR
#   local_cluster.sh stop DIR    cancel the jobs, stop the daemons by their recorded ids, check
#                                that none of them is left
#   local_cluster.sh status DIR  which daemons are up
#
# Clients (sbatch, squeue, snakemake) need `export SLURM_CONF=DIR/etc/slurm.conf`. The job-step
# plugin drops SLURM_* from the environment of the `srun` inside each job, so `start` also links
# /etc/slurm/slurm.conf to it (only where no real one is there; `stop` removes the link).
#
# No slurmdbd: snakemake-executor-plugin-slurm asks squeue for job states when told to
# (`--slurm-status-command squeue`), and MinJobAge keeps finished jobs visible to squeue for 10
# minutes. Finished jobs are also written to DIR/log/jobcomp.txt.
set -euo pipefail

cmd=${1:-}
DIR=${2:-}
[[ -n $cmd && -n $DIR ]] || { echo "usage: $0 start|stop|status DIR" >&2; exit 2; }
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
PORT=${SLURM_PORT_BASE:-6817} # slurmctld; slurmd gets the next port
CONF=$DIR/etc/slurm.conf
PIDS=$DIR/pids
export SLURM_CONF=$CONF

alive() { [[ -f $PIDS/$1.pid ]] && kill -0 "$(cat "$PIDS/$1.pid")" 2>/dev/null; }

launch() { # NAME CMD...: in the foreground mode of the daemon, in the background here
  local name=$1
  shift
  setsid "$@" </dev/null >>"$DIR/log/$name.out" 2>&1 &
  echo $! >"$PIDS/$name.pid"
}

wait_for() { # SECONDS DAEMON WHAT CMD...: until CMD succeeds, while DAEMON lives
  local end=$((SECONDS + $1)) daemon=$2 what=$3
  shift 3
  until "$@" >/dev/null 2>&1; do
    alive "$daemon" || { echo "$daemon died; see $DIR/log/" >&2; return 1; }
    ((SECONDS < end)) || { echo "timeout waiting for $what; see $DIR/log/" >&2; return 1; }
    sleep 0.2
  done
}

write_conf() {
  local hw cpus mem
  hw=$(slurmd -C | head -1) # "NodeName=... CPUs=2 ... RealMemory=24105"
  cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$hw")
  mem=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$hw")
  cat >"$CONF" <<EOF
ClusterName=preictal-local
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
MinJobAge=600
KillWait=5
InactiveLimit=0
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.txt
NodeName=localhost NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
  if alive slurmctld || alive munged; then
    echo "a cluster is already running in $DIR" >&2
    exit 1
  fi
  for tool in munged slurmctld slurmd sbatch; do
    command -v $tool >/dev/null || {
      echo "$tool not found: apt-get install munge slurmctld slurmd slurm-client" >&2
      exit 1
    }
  done
  if [[ -e /etc/slurm/slurm.conf && ! -L /etc/slurm/slurm.conf ]]; then
    echo "/etc/slurm/slurm.conf exists: this machine has a cluster of its own" >&2
    exit 1
  fi
  local t0=$SECONDS
  mkdir -p "$DIR"/{etc,munge,state,spool,run,log,pids}
  chmod 700 "$DIR/munge"
  write_conf
  mkdir -p /etc/slurm
  ln -sfn "$CONF" /etc/slurm/slurm.conf
  [[ -f $DIR/munge/munge.key ]] || {
    head -c 1024 /dev/urandom >"$DIR/munge/munge.key"
    chmod 400 "$DIR/munge/munge.key"
  }
  local socket=$DIR/munge/munge.socket
  launch munged munged --foreground --force --socket="$socket" \
    --key-file="$DIR/munge/munge.key" --pid-file="$DIR/run/munged.pid" \
    --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munged.seed"
  wait_for 10 munged munged bash -c "munge -n -S '$socket' | unmunge -S '$socket'"
  launch slurmctld slurmctld -D -i -f "$CONF"
  wait_for 30 slurmctld slurmctld scontrol ping
  launch slurmd slurmd -D -N localhost -f "$CONF"
  wait_for 60 slurmd "an idle node" bash -c "sinfo -h -N -o %t | grep -qx idle"
  echo "started in $((SECONDS - t0)) s; clients need: export SLURM_CONF=$CONF"
}

stop() {
  local name pid left=0
  if alive slurmctld; then # cancel jobs first, so that no job outlives the daemons
    scancel --partition=debug 2>/dev/null || true
    wait_for 30 slurmctld "the jobs to end" bash -c '[[ -z $(squeue -h -o %i) ]]' || true
  fi
  for name in slurmd slurmctld munged; do
    [[ -f $PIDS/$name.pid ]] || continue
    pid=$(cat "$PIDS/$name.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$PIDS/$name.pid"
  done
  # Anything of this cluster still running (a job step, a daemon): it names DIR or its config.
  for pid in $(for name in slurmstepd slurmscriptd slurmd slurmctld munged; do pgrep -x $name; done); do
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$DIR" ||
      tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "SLURM_CONF=$CONF"; then
      echo "left running: $pid $(tr '\0' ' ' <"/proc/$pid/cmdline")" >&2
      left=1
    fi
  done
  [[ $(readlink /etc/slurm/slurm.conf 2>/dev/null) == "$CONF" ]] && rm -f /etc/slurm/slurm.conf
  [[ $left == 0 ]] && echo "stopped"
  return $left
}

status() {
  for name in munged slurmctld slurmd; do
    if alive $name; then echo "$name up"; elif [[ -f $PIDS/$name.pid ]]; then echo "$name dead"; fi
  done
}

case $cmd in
start) start ;;
stop) stop ;;
status) status ;;
*)
  echo "unknown command $cmd: start, stop or status" >&2
  exit 2
  ;;
esac
