# Issue 20 (runs on 2, 4 and 8 GPUs when they are lent): the last of four calls, GPU count from
# the machine ($N). The four calls, each under the device's 10-minute limit:
#   1. bash bench/run-gpu.sh selftest peer latency failures    selftest both modes (with the
#      NVSHMEM/all-to-all/MoE/copy stage), collectives vs PyTorch, 8 B all_reduce plain and
#      graph-replayed, bad input, kill -9 of one rank mid-sweep
#   2. bash bench/run-gpu.sh alltoall nvshmem                   every all-to-all backend (4 KiB per
#      peer, 256 MiB and 1 GiB per rank) beside PyTorch; NVSHMEM put/get bandwidth and latency
#   3. bash bench/run-gpu.sh jacobi moe-gpus copy-peer          Jacobi on 1, 2, 4 (8) GPUs; every
#      MoE style and preset beside PyTorch; the copy matrix CE/SM, one way and both, vs NVLink
#   4. bash bench/run-gpu.sh multigpu-s6                        this file: `top --json --links`
#      during an MoE dispatch/combine run and during an all-to-all, then the suite and its report
# Sourced by bench/run-gpu.sh ($G, $N, $R, step()).
M=$R/multi; mkdir -p $M
if [ "$N" -lt 2 ]; then echo "multigpu-s6: $N GPU visible, nothing to do (needs 2 or more)"; return 0 2>/dev/null || exit 0; fi
step "top --json --links beside MoE dispatch/combine ($N GPUs)"
timeout 40 $G top --json --links --interval 250ms --duration 20s --record $M/top-moe-trace.json > $M/top-moe.jsonl 2> $M/top-moe.err &
TOP=$!
sleep 2
timeout 35 $G moe --np $N --preset deepep-normal --tokens 1024 -n 200 -w 10 --results $M/moe.jsonl > $M/moe.log 2>&1; echo "moe rc=$?"
wait $TOP; echo "top rc=$?"; gzip -f $M/top-moe.jsonl $M/top-moe-trace.json
step "top --json --links beside a 256 MiB-per-rank all-to-all"
timeout 40 $G top --json --links --interval 250ms --duration 20s --record $M/top-a2a-trace.json > $M/top-a2a.jsonl 2> $M/top-a2a.err &
TOP=$!
sleep 2
timeout 35 $G alltoall --np $N --backends nccl,cuda-ce-1p -b 256M -e 256M -n 200 -w 10 --results $M/a2a.jsonl > $M/a2a.log 2>&1; echo "alltoall rc=$?"
wait $TOP; echo "top rc=$?"; gzip -f $M/top-a2a.jsonl $M/top-a2a-trace.json
step "suite and its report on $N GPUs"
timeout 300 $G suite --results $M/suite.jsonl --report-dir $M/report > $M/suite.log 2> $M/suite.err; echo "suite rc=$?"
tail -30 $M/suite.log | cut -c1-160
