#!/usr/bin/env bash
# CI: gpucomm under real launchers, and the recipes' checks. Run by .ci/run after `swift build` and
# `swift test`; needs root, apt and PyPI, no GPU. Every daemon it starts (munged, slurmctld, slurmd) is
# stopped by its process id. Fails on the first real failure; docs/clusters.md lists what is covered.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
G=$ROOT/.build/debug/gpucomm
started=$(date +%s)
[[ -x $G ]] || { echo "launchers: $G is missing (run swift build first)" >&2; exit 1; }

# --- tools -------------------------------------------------------------------------------------------
need=()
command -v mpirun.openmpi >/dev/null || need+=(openmpi-bin)
command -v mpiexec.mpich >/dev/null || need+=(mpich)
command -v slurmctld >/dev/null || need+=(slurm-wlm)
command -v munged >/dev/null || need+=(munge)
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v make >/dev/null || need+=(make)
command -v python3 >/dev/null || need+=(python3 python3-venv)
if ((${#need[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
VENV=${GPUCOMM_CI_VENV:-/tmp/gpucomm-ci-venv}
if [[ ! -x $VENV/bin/check-jsonschema || ! -x $VENV/bin/kubernetes-validate ]] ||
   ! "$VENV/bin/python" -c 'import dockerfile' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q kubernetes-validate check-jsonschema dockerfile
fi
echo "launchers: tools ready after $(( $(date +%s) - started )) s"

W=$(mktemp -d /tmp/gpucomm-ci.XXXXXX)
chmod 755 "$W"
DAEMONS=()
cleanup() {
  local i
  for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do
    kill "${DAEMONS[i]}" 2>/dev/null || true
  done
  for pid in "${DAEMONS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$W"
}
trap cleanup EXIT

failures=0
passed=0
# expect NAME STATUS PATTERN... -- COMMAND...: runs COMMAND (60 s at most), wants exit STATUS (a number or
# "nonzero", where the launcher picks its own status for a killed rank) and every
# PATTERN (grep -E) in its stdout+stderr.
expect() {
  local name=$1 want=$2; shift 2
  local patterns=()
  while [[ $1 != -- ]]; do patterns+=("$1"); shift; done
  shift
  local log=$W/$name.log status=0
  timeout -k 5 60 "$@" >"$log" 2>&1 || status=$?
  local bad=""
  if [[ $want == nonzero ]]; then
    [[ $status != 0 ]] || bad="exit status 0, wanted a failure"
  elif [[ $status != "$want" ]]; then
    bad="exit status $status, wanted $want"
  fi
  for p in "${patterns[@]}"; do
    grep -qE -- "$p" "$log" || bad="${bad:+$bad; }no line matches /$p/"
  done
  if [[ -n $bad ]]; then
    echo "FAIL $name: $bad"; sed 's/^/    /' "$log" | tail -n 30; failures=$((failures + 1))
  else
    echo "ok   $name"; passed=$((passed + 1))
  fi
}

MPIRUN=(mpirun.openmpi --allow-run-as-root --oversubscribe --mca btl "self,tcp" --mca btl_tcp_if_include lo
        --mca oob_tcp_if_include lo)
export GPUCOMM_BIND=127.0.0.1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# --- Open MPI ----------------------------------------------------------------------------------------
expect ompi-4 0 '^3 +3/4 .* mpirun ' 'launch-check: ok' -- "${MPIRUN[@]}" -np 4 "$G" launch-check -T 30
expect ompi-np1 0 '^0 +0/1 .* single ' 'launch-check: ok' -- "${MPIRUN[@]}" -np 1 "$G" launch-check -T 30
expect ompi-killed-rank nonzero 'rank 2 on [^ ]+ died: pid [0-9]+: its connection closed without a goodbye' -- \
  "${MPIRUN[@]}" -np 3 "$G" _rendezvous-probe --behaviour die-after-join --timeout 10
# Two ranks would share GPU 1: launch-check says so and exits 1.
expect ompi-gpu-clash 1 'problem: ranks 0, 1 on .* would all use GPU 1' -- \
  "${MPIRUN[@]}" -np 2 -x CUDA_VISIBLE_DEVICES=1,1 "$G" launch-check -T 30

# --- MPICH (Hydra) -----------------------------------------------------------------------------------
expect mpich-4 0 '^3 +3/4 .* mpich ' 'launch-check: ok' -- mpiexec.mpich -n 4 "$G" launch-check -T 30
# Two jobs started at the same moment, three times: Hydra exports no job id (issue 16, bug 1).
for round in 1 2 3; do
  expect "mpich-pair$round-a" 0 'launch-check: ok' -- mpiexec.mpich -n 4 "$G" launch-check -T 30 &
  a=$!
  expect "mpich-pair$round-b" 0 'launch-check: ok' -- mpiexec.mpich -n 4 "$G" launch-check -T 30 &
  b=$!
  wait "$a" || failures=$((failures + 1))
  wait "$b" || failures=$((failures + 1))
done
# The pair ran in subshells: count their results from the logs.
for f in "$W"/mpich-pair*.log; do
  if grep -q 'launch-check: ok' "$f"; then passed=$((passed + 1)); else failures=$((failures + 1)); fi
done
# kill -9 of one rank from outside, while the ranks are busy.
kill9() {  # LAUNCHER...: starts a long probe job, kills the rank whose environment has GPUCOMM_CI_VICTIM=1
  local tag=ci-$$-$RANDOM log=$W/kill9.out
  GPUCOMM_CI_TAG=$tag "$@" >"$log" 2>&1 &
  local job=$! victim=""
  for _ in $(seq 100); do
    victim=$(grep -l "GPUCOMM_CI_TAG=$tag" /proc/[0-9]*/environ 2>/dev/null | while read -r e; do
      p=${e#/proc/}; p=${p%/environ}
      tr '\0' '\n' <"$e" 2>/dev/null | grep -qE '^(PMI_RANK|OMPI_COMM_WORLD_RANK|SLURM_PROCID|RANK)=1$' &&
        grep -q rendezvous-probe "/proc/$p/cmdline" 2>/dev/null && echo "$p"
    done | head -n 1)
    [[ -n $victim ]] && grep -q 'rank 0 of 3 joined' "$log" && break
    sleep 0.1
  done
  [[ -n $victim ]] && kill -9 "$victim"
  wait "$job" || true
  cat "$log"
  [[ -n $victim ]]
}
# Hydra ends the job itself when a rank dies (it kills the others at once); which one reports it
# first is a race, so either the survivors' "died" line or Hydra's own report of the killed rank.
expect mpich-kill9 0 'rank 1 on [^ ]+ died: pid [0-9]+|BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES' -- \
  bash -c "$(declare -f kill9); W=$W; kill9 mpiexec.mpich -genvall -n 3 $G _rendezvous-probe --rounds 100000000 --timeout 10"
expect ompi-kill9 0 'rank 1 on [^ ]+ died: pid [0-9]+' -- \
  bash -c "$(declare -f kill9); W=$W; kill9 ${MPIRUN[*]} -np 3 $G _rendezvous-probe --rounds 100000000 --timeout 10"

# --- torchrun-style environments ----------------------------------------------------------------------
token_of() {  # RANK ODD: rank 2 presents ODD when it is given
  if [[ $1 == 2 && -n $2 ]]; then echo "$2"; else echo same; fi
}
torch_job() {  # SIZE PORT [TOKEN_OF_RANK_2] [SKIP_RANK]: RANK/WORLD_SIZE/MASTER_* ranks, as torchrun sets them
  local size=$1 port=$2 odd=${3:-} skip=${4:-} r pids=() status=0
  for ((r = 0; r < size; r++)); do
    [[ $r == "$skip" ]] && continue
    env RANK=$r WORLD_SIZE="$size" LOCAL_RANK=$r LOCAL_WORLD_SIZE="$size" MASTER_ADDR=127.0.0.1 MASTER_PORT="$port" \
      TORCHELASTIC_RUN_ID="ci-$port" GPUCOMM_TOKEN="$(token_of "$r" "$odd")" \
      "$G" launch-check -T 3 > >(sed "s/^/[$r] /") 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || status=$?; done
  return "$status"
}
expect torchrun-4 0 '\[0\] 3 +3/4 .* torchrun ' 'launch-check: ok' -- bash -c "$(declare -f token_of torch_job); G=$G; torch_job 4 29411"
expect wrong-token 6 '\[2\] .*refused rank 2: wrong rendezvous token' '\[0\] .*rank 2 never arrived' -- \
  bash -c "$(declare -f token_of torch_job); G=$G; torch_job 4 29421 other"
expect never-comes 6 '\[0\] .*rendezvous timed out after 3.0 s: rank 3 never arrived' -- \
  bash -c "$(declare -f token_of torch_job); G=$G; torch_job 4 29431 '' 3"
expect bad-environment 2 'MASTER_ADDR' -- env RANK=1 WORLD_SIZE=2 "$G" launch-check
expect rank0-absent 6 'rank 0 never answered at 127.0.0.1:29441 \(last attempt: .*Connection refused' -- \
  env RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29441 "$G" launch-check -T 2

# --- Slurm: munge, slurmctld and two slurmd on this host ---------------------------------------------------
# Node $H is this host; node $H-b is a second slurmd on it, so that srun -N 2 gives real uneven layouts.
# Partition "ci" (the default) holds $H only, whose name resolves; "two" holds both.
slurm_started=$(date +%s)
H=$(hostname)
# Under srun gpucomm meets rank 0 at the first node's name, which must resolve like on a real cluster.
if ! getent hosts "$H" >/dev/null; then
  echo "FAIL slurm: this host's name '$H' does not resolve; add it to /etc/hosts"; exit 1
fi
mkdir -p "$W/munge" "$W/state" "$W/spool/$H" "$W/spool/$H-b"
chmod 700 "$W/munge"
dd if=/dev/urandom of="$W/munge/munge.key" bs=1024 count=1 status=none
chmod 600 "$W/munge/munge.key"
munged -F --force --socket="$W/munge/munge.sock" --key-file="$W/munge/munge.key" --pid-file="$W/munge/munged.pid" \
  --log-file="$W/munge/munged.log" --seed-file="$W/munge/seed" >"$W/munged.out" 2>&1 &
DAEMONS+=($!)
cat >"$W/slurm.conf" <<CONF
ClusterName=gpucommci
SlurmctldHost=$H(127.0.0.1)
SlurmctldPort=36817
AuthType=auth/munge
AuthInfo=socket=$W/munge/munge.sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$W/state
SlurmdSpoolDir=$W/spool/%n
SlurmctldPidFile=$W/slurmctld.pid
SlurmdPidFile=$W/slurmd-%n.pid
SlurmctldLogFile=$W/slurmctld.log
SlurmdLogFile=$W/slurmd-%n.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
MpiDefault=none
ReturnToService=2
MinJobAge=600
NodeName=$H NodeHostname=$H NodeAddr=127.0.0.1 Port=36818 CPUs=16 State=UNKNOWN
NodeName=$H-b NodeHostname=$H NodeAddr=127.0.0.1 Port=36819 CPUs=16 State=UNKNOWN
PartitionName=ci Nodes=$H Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:16
PartitionName=two Nodes=$H,$H-b MaxTime=INFINITE State=UP OverSubscribe=FORCE:16
CONF
echo "CgroupPlugin=cgroup/v1" >"$W/cgroup.conf"
export SLURM_CONF=$W/slurm.conf
for _ in $(seq 50); do [[ -S $W/munge/munge.sock ]] && break; sleep 0.1; done
slurmctld -D -f "$SLURM_CONF" >"$W/slurmctld.out" 2>&1 &
DAEMONS+=($!)
for node in "$H" "$H-b"; do
  slurmd -D -f "$SLURM_CONF" -N "$node" >"$W/slurmd-$node.out" 2>&1 &
  DAEMONS+=($!)
done
for _ in $(seq 120); do [[ $(sinfo -h -N -p two -o %T 2>/dev/null | grep -cE '^(idle|mixed|allocated)') == 2 ]] && break; sleep 0.5; done
if [[ $(sinfo -h -N -p two -o %T | grep -cE '^(idle|mixed|allocated)') != 2 ]]; then
  echo "FAIL slurm: the nodes did not come up"; sinfo -N; tail -n 20 "$W"/slurm*.log; exit 1
fi
echo "launchers: Slurm up after $(( $(date +%s) - slurm_started )) s"

expect srun-4 0 '^3 +3/4 .* srun ' 'launch-check: ok' -- srun -n 4 "$G" launch-check -T 30
expect srun-pmi2 0 '^2 +2/3 .* srun ' 'launch-check: ok' -- srun --mpi=pmi2 -n 3 "$G" launch-check -T 30
expect srun-pmix 0 '^1 +1/2 .* srun ' 'launch-check: ok' -- srun --mpi=pmix -n 2 "$G" launch-check -T 30
expect srun-cyclic 0 'launch-check: ok' -- srun -m cyclic -n 3 "$G" launch-check -T 30
# Uneven layouts on two nodes (issue 16, bug 3): srun -N 2 -n 4 puts 3 tasks on the first node, 1 on the second.
# Both nodes are this host, so the rendezvous is given as loopback (the node names do not resolve).
expect srun-uneven 0 '^2 +2/3 .*\[?'"$H"'\]? ' '^3 +0/1 .*\['"$H"'-b\] ' 'launch-check: ok' -- \
  srun -p two -N 2 -n 4 --export=ALL,GPUCOMM_RENDEZVOUS=127.0.0.1:29451 "$G" launch-check -T 30
# -m arbitrary: task 0 may run on any node; here on the second. Without an address gpucomm stops (exit 2).
printf '%s\n' "$H-b" "$H" "$H" "$H" >"$W/hostfile"
expect srun-arbitrary-asks 2 'SLURM_DISTRIBUTION=arbitrary.*GPUCOMM_RENDEZVOUS' -- \
  env SLURM_HOSTFILE="$W/hostfile" srun -p two -m arbitrary -n 4 "$G" launch-check -T 30
expect srun-arbitrary 0 '^0 +0/1 .*\['"$H"'-b\] ' '^3 +2/3 ' 'launch-check: ok' -- \
  env SLURM_HOSTFILE="$W/hostfile" srun -p two -m arbitrary -n 4 --export=ALL,GPUCOMM_RENDEZVOUS=127.0.0.1:29461 \
  "$G" launch-check -T 30
expect srun-killed-rank nonzero 'rank 2 on [^ ]+ died' -- \
  srun -n 3 --kill-on-bad-exit=0 "$G" _rendezvous-probe --behaviour die-after-join --timeout 10

# Every batch script of recipes/slurm, for real, on one node and no GPUs, stopping after its launch check.
for script in recipes/slurm/*.sbatch; do
  name=$(basename "$script" .sbatch)
  out=$W/sbatch-$name.out
  id=$(cd recipes/slurm && GPUCOMM=$G GPUCOMM_LAUNCH_CHECK_ONLY=1 GPUCOMM_SRUN_MPI=pmi2 RESULTS_DIR=$W/results \
       sbatch --parsable --export=ALL --nodes=1 --ntasks-per-node=4 --gpus-per-node=0 \
       --output="$out" "$name.sbatch")
  state="" reason=""
  for _ in $(seq 240); do
    read -r state reason < <(scontrol show job "$id" 2>/dev/null |
      sed -nE 's/.*JobState=([A-Z_]+) Reason=([^ ]+).*/\1 \2/p' || true)
    [[ $state =~ ^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY)$ ]] && break
    # A job that cannot start (a limit, a bad request) will never start: stop waiting.
    [[ $state == PENDING && ! $reason =~ ^(None|Resources|Priority)$ ]] && break
    sleep 0.5
  done
  expect "sbatch-$name" 0 'launch-check: ok' -- \
    bash -c "cat '$out' 2>/dev/null; echo 'job $id: $state ($reason)'; [[ $state == COMPLETED ]]"
done

# --- gpucomm top --listen under abuse (the real binary; RDMA counters from the test fixtures) -------------
"$G" top --sys-root Tests/MonitorTests/Fixtures/sys-efa --no-nvlink --listen 127.0.0.1:0 --interval 200ms \
  >"$W/top.out" 2>"$W/top.err" &
top_pid=$!
DAEMONS+=("$top_pid")
for _ in $(seq 100); do grep -q 'serving http' "$W/top.err" && break; sleep 0.1; done
top_url=$(grep -oE 'http://[0-9.:]+/metrics' "$W/top.err" || true)
expect top-listen-abuse 0 'scrape 200 in 0\.[0-9]+ s' 'oversized 431' 'malformed 400' 'load 200 x 160' -- \
  python3 - "$top_url" <<'PY'
import socket, sys, threading, time, urllib.parse, urllib.request
url = sys.argv[1]
host, port = urllib.parse.urlsplit(url).hostname, urllib.parse.urlsplit(url).port
held = []
for i in range(100):  # 100 idle connections, half of them with half a request
    s = socket.create_connection((host, port), timeout=5)
    if i % 2:
        s.sendall(b"GET /metr")
    held.append(s)
t = time.monotonic()
with urllib.request.urlopen(url, timeout=1) as r:
    code = r.status
print(f"scrape {code} in {time.monotonic() - t:.3f} s")
if time.monotonic() - t >= 1:
    sys.exit(1)
def raw(data):
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(data)
    reply = s.recv(64).split(b" ")[1].decode()
    s.close()
    return reply
print("oversized", raw(b"GET /metrics HTTP/1.1\r\n" + b"X: " + b"a" * 20000 + b"\r\n\r\n"))
print("malformed", raw(b"\x01\x02nonsense\r\n\r\n"))
codes = []
def client():
    for _ in range(20):
        with urllib.request.urlopen(url, timeout=2) as r:
            codes.append(r.status)
threads = [threading.Thread(target=client) for _ in range(8)]
for th in threads: th.start()
for th in threads: th.join()
print("load", "200 x", codes.count(200))
PY
kill "$top_pid"

# --- recipes -------------------------------------------------------------------------------------------
mapfile -t shells < <(find recipes .ci -type f \( -name '*.sh' -o -name '*.sbatch' \) | sort)
expect shellcheck 0 -- shellcheck -x -P recipes/slurm "${shells[@]}" .ci/run
expect dockerfiles 0 '2 Dockerfile\(s\), 0 problem' -- \
  "$VENV/bin/python" recipes/docker/check.py recipes/docker/Dockerfile recipes/docker/Dockerfile.ib
# shellcheck disable=SC2016  # the $y is for the Dockerfile, not for this shell
printf 'FROM scratch\nRUN cd /x; echo $y\nENV UNDOCUMENTED=1\n' >"$W/Dockerfile.bad"
expect dockerfile-check-refuses 1 'SC2164' 'UNDOCUMENTED is not documented' -- \
  "$VENV/bin/python" recipes/docker/check.py "$W/Dockerfile.bad"
expect enroot-make 0 'enroot import -o gpucomm-efa.sqsh dockerd://gpucomm:efa' 'container-image=.*gpucomm-efa.sqsh' -- \
  make -n -C recipes/enroot sqsh check
expect enroot-make-ib 0 'Dockerfile.ib -t gpucomm:ib' -- make -n -C recipes/enroot sqsh VARIANT=ib
expect kubernetes-core 0 -- "$VENV/bin/kubernetes-validate" --strict -k 1.30.0 \
  recipes/kubernetes/indexed-job.yaml recipes/kubernetes/daemonset-top.yaml
mapfile -t mpijobs < <(ls recipes/kubernetes/mpijob-*.yaml)
expect mpijob-schema 0 -- "$VENV/bin/check-jsonschema" --schemafile recipes/kubernetes/schema/mpijob-v2beta1.json \
  "${mpijobs[@]}"
# Each MPIJob's pod templates are core objects: validate them as PodTemplates.
"$VENV/bin/python" - "$W/pod-templates.yaml" "${mpijobs[@]}" <<'PY'
import sys, yaml
out = []
for path in sys.argv[2:]:
    job = yaml.safe_load(open(path))
    for role, spec in job["spec"]["mpiReplicaSpecs"].items():
        out.append({"apiVersion": "v1", "kind": "PodTemplate",
                    "metadata": {"name": f'{job["metadata"]["name"]}-{role.lower()}'}, "template": spec["template"]})
yaml.safe_dump_all(out, open(sys.argv[1], "w"))
PY
expect mpijob-pod-templates 0 -- "$VENV/bin/kubernetes-validate" --strict -k 1.30.0 --quiet "$W/pod-templates.yaml"
# The checks must be able to fail: an integer in a command (the old docs/launch.md manifest) is refused.
sed 's/- "-e"/- 8/' "${mpijobs[0]}" >"$W/bad-mpijob.yaml"
expect mpijob-schema-refuses 1 -- "$VENV/bin/check-jsonschema" --schemafile recipes/kubernetes/schema/mpijob-v2beta1.json \
  "$W/bad-mpijob.yaml"
sed 's/"-b", "8"/"-b", 8/' recipes/kubernetes/indexed-job.yaml >"$W/bad-job.yaml"
expect kubernetes-refuses 1 "8 is not of type 'string'" -- "$VENV/bin/kubernetes-validate" --strict -k 1.30.0 "$W/bad-job.yaml"

echo "launchers: $passed passed, $failures failed in $(( $(date +%s) - started )) s"
((failures == 0))
