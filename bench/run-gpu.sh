#!/usr/bin/env bash
# One call on the GPU machine: selftest, the collective matrix against PyTorch's NCCL, latency,
# bad-input and failure checks. Logs and results under $OUT. Needs the binary at .gpu/gpucomm.gz
# (built here with `swift build -c release --static-swift-stdlib`, stripped, gzipped; carried).
#   usage: bash bench/run-gpu.sh [selftest|peer|latency|failures|suite|all|STEP]...
# A STEP that is not built in runs bench/steps/STEP.sh (sourced: it sees $G, $N, $R and step()).
set -u
cd "$(dirname "$0")/.."
source bench/gpu-env.sh
N=$(nvidia-smi -L | wc -l)
step() { echo; echo "=== $* ($(date -u +%H:%M:%S))"; }
want() { [[ " ${STEPS} " == *" $1 "* || " ${STEPS} " == *" all "* ]]; }
STEPS="${*:-all}"
# Everything goes to $R and comes back as one tarball ($OUT returns at most 8 files).
R=/tmp/gpurun; rm -rf $R; mkdir -p $R
exec > >(tee -a $R/stdout.log) 2>&1  # what the call prints also comes back in the tarball
# GPU_RUN_DEADLINE=S: also pack what exists after S seconds, in case the call's time limit kills the run.
# The watcher is killed at exit: the device call lasts as long as any process it started.
WATCH=
if [ -n "${GPU_RUN_DEADLINE:-}" ]; then ( exec sleep "$GPU_RUN_DEADLINE" ) & WATCH=$!; ( wait_for=$WATCH; while kill -0 $wait_for 2>/dev/null; do sleep 1; done; [ -f $R/.done ] || tar czf $OUT/gpu-run.tgz -C $R . ) & fi
trap 'touch $R/.done; [ -n "$WATCH" ] && kill $WATCH 2>/dev/null; tar czf $OUT/gpu-run.tgz -C $R . ; ls -la $OUT' EXIT


if want peer; then
  step "collectives vs PyTorch (same sizes, host timing, -n 40 -w 10)"
  $G nccl all_reduce all_gather reduce_scatter alltoall -b 16 -e 1G -f 2 -g $N -n 40 -w 10 --results $R/gpucomm.jsonl > $R/gpucomm-sweep.log 2>&1
  echo "gpucomm sweep rc=$?"
  python3 -m torch.distributed.run --nproc_per_node $N bench/torch_peer.py --sizes 16:$((1<<30)):2 --out $R/torch.jsonl > $R/torch.log 2>&1
  echo "torch rc=$?"; grep -E "Error|error" $R/torch.log | tail -3
  python3 bench/compare_peer.py $R/gpucomm.jsonl $R/torch.jsonl --min-bytes $((32<<20)) > $R/peer-compare.txt; echo "compare rc=$?"
  grep -E "^(all_reduce|alltoall) +(8|4096|33554432|536870912|1073741824) |below" $R/peer-compare.txt
fi

if want latency; then
  step "small-message latency: host loop and CUDA-graph replay"
  { $G nccl all_reduce -b 8 -e 8 -g $N -n 1000 -w 100 --results $R/latency.jsonl
    $G nccl all_reduce -b 8 -e 8 -g $N -n 100 -w 10 -G 20 --results $R/latency.jsonl
    $G nccl all_reduce -b 8 -e 8 -g $N -n 1000 -w 100 --timing events --results $R/latency.jsonl --json
    $G nccl alltoall -b 16K -e 16K -g $N -n 1000 -w 100 --results $R/latency.jsonl
    $G nccl all_reduce --np $N -b 8 -e 8 -n 1000 -w 100 --results $R/latency.jsonl; } > $R/latency.log 2>&1
  grep -vE "^#  Rank|^\[gpucomm\]" $R/latency.log | grep -E "^ +[0-9]|time_us" | cut -c1-160
fi

if want failures; then
  step "bad input and failures: each one line and its exit code, no results file"
  ( for args in "nccl all_reduce -o bogus" "nccl all_reduce -d float7" "nccl all_reduce -b 1G -e 1M" \
                "nccl all_gather -b 6 -e 6 -g $N" "nccl all_reduce -g $((N+1))" "nccl alltoall --np $((N+1))" "nccl bogus_coll"; do
      rm -f $R/bad.jsonl; $G $args --results $R/bad.jsonl; rc=$?
      echo "  -> gpucomm $args: rc=$rc, results file $( [ -e $R/bad.jsonl ] && echo WRITTEN || echo absent)"
    done
    rm -f $R/bad.jsonl; GPUCOMM_NCCL_LIB=/nonexistent/libnccl.so.2 $G nccl all_reduce -g $N --results $R/bad.jsonl; echo "  -> no NCCL: rc=$? results $( [ -e $R/bad.jsonl ] && echo WRITTEN || echo absent)"
    t0=$(date +%s); GPUCOMM_RANK=0 GPUCOMM_WORLD_SIZE=2 GPUCOMM_LOCAL_RANK=0 GPUCOMM_RENDEZVOUS=127.0.0.1:29877 GPUCOMM_TOKEN=a \
      $G nccl all_reduce -T 5 --results $R/bad.jsonl; echo "  -> rank 1 never arrives: rc=$? after $(( $(date +%s)-t0 )) s"
    ( GPUCOMM_RANK=0 GPUCOMM_WORLD_SIZE=2 GPUCOMM_LOCAL_RANK=0 GPUCOMM_RENDEZVOUS=127.0.0.1:29878 GPUCOMM_TOKEN=right $G nccl all_reduce -T 5 --no-results > /dev/null 2>&1 & )
    sleep 1; GPUCOMM_RANK=1 GPUCOMM_WORLD_SIZE=2 GPUCOMM_LOCAL_RANK=1 GPUCOMM_RENDEZVOUS=127.0.0.1:29878 GPUCOMM_TOKEN=wrong \
      $G nccl all_reduce -T 5 --no-results; echo "  -> wrong token: rc=$?"; sleep 5
  ) > $R/failures.log 2>&1
  step "kill -9 of one rank in the middle of a $N-process sweep"
  rm -f $R/kill.jsonl
  ( $G nccl all_reduce --np $N -b 1M -e 256M -f 2 -n 500 -N 20 -T 10 --results $R/kill.jsonl > $R/kill.log 2>&1; echo "launcher rc=$?" >> $R/kill.log ) &
  sleep 12
  victim=$(pgrep -f "gpucomm nccl all_reduce" | sort -n | sed -n 3p); kill -9 $victim; t0=$(date +%s)
  echo "killed pid $victim at $(date -u +%T)" >> $R/kill.log
  wait; echo "ranks gone $(( $(date +%s)-t0 )) s after the kill; left: $(pgrep -fc 'gpucomm nccl' || true)" >> $R/kill.log
  python3 -c "import json,sys; rows=[json.loads(l) for l in open('$R/kill.jsonl')]; print('results file parses:', len(rows), 'lines,', sum(r['type']=='result' for r in rows), 'rows')" >> $R/kill.log 2>&1
  cat $R/failures.log | grep -E "^gpucomm:|^\[rank|->" | cut -c1-220; tail -8 $R/kill.log | cut -c1-220
fi

if want peer2; then
  step "alltoall vs PyTorch, one process per GPU on both sides, 3 repeats, -n 100"
  for rep in 1 2 3; do
    $G nccl alltoall --np $N -b 32M -e 1G -f 2 -n 100 -w 10 --results $R/gpucomm-a2a.jsonl > $R/gpucomm-a2a-$rep.log 2>&1
    python3 -m torch.distributed.run --nproc_per_node $N bench/torch_peer.py --collectives alltoall --sizes $((32<<20)):$((1<<30)):2 --iters 100 --out $R/torch-a2a.jsonl > $R/torch-a2a.log 2>&1
  done
  python3 bench/compare_peer.py $R/gpucomm-a2a.jsonl $R/torch-a2a.jsonl --median > $R/peer-a2a.txt; cat $R/peer-a2a.txt
fi

if want nvshmem; then
  step "NVSHMEM device-initiated put bandwidth, PE 0 -> PE 1"
  timeout 60 $G nvshmem put --np 2 -b 1M -e 1G -f 2 --results $R/nvshmem.jsonl > $R/nvshmem-put.log 2>&1; echo "put block rc=$?"
  cat $R/nvshmem-put.log | grep -v "^\[rank [1-9]\] \[" | tail -12
  timeout 40 $G nvshmem put --np 2 -b 64M -e 1G -f 4 --scope warp --results $R/nvshmem.jsonl > $R/nvshmem-warp.log 2>&1; echo "put warp rc=$?"; tail -4 $R/nvshmem-warp.log
  timeout 40 $G nvshmem put --np 2 -b 64M -e 1G -f 4 --bidirectional --results $R/nvshmem.jsonl > $R/nvshmem-bidir.log 2>&1; echo "put bidir rc=$?"; tail -4 $R/nvshmem-bidir.log
fi

if want suite; then
  step "suite"
  timeout 120 $G suite --results $R/suite.jsonl > $R/suite.log 2>&1; echo "suite rc=$?"; tail -14 $R/suite.log
fi

if want selftest; then
  step "selftest: $N GPUs, one process then one process per GPU"
  timeout 170 $G selftest --mode single --nvshmem off -T 20 > $R/selftest-single.log 2>&1; echo "selftest single rc=$?" | tee -a $R/selftest-single.log
  timeout 260 $G selftest --mode ranks -T 20 > $R/selftest-ranks.log 2>&1; echo "selftest ranks rc=$?" | tee -a $R/selftest-ranks.log
  grep -hE "^selftest|FAIL|waived|known|did not finish|rc=" $R/selftest-*.log | cut -c1-250 | head -40
  tail -3 $R/selftest-ranks.log | cut -c1-250
fi

# Step scripts: bench/steps/NAME.sh, one per capability, each writing its logs under $R.
for s in ${STEPS}; do
  if [ -f "bench/steps/$s.sh" ]; then step "$s (bench/steps/$s.sh)"; source "bench/steps/$s.sh"; fi
done
