# Session 4, call 1: the device norm with per-block sums (no atomics) and the host put over
# 1 or 2 streams. Sourced by bench/run-gpu.sh ($G, $N, $R).
# 1) jacobi-fused.sh: small grids checked (2 and $N GPUs, norm every 1 and 3), 16384² on 2,$N and $N.
source bench/steps/jacobi-fused.sh
J=$R/jacobi-fused
timeout 120 $G jacobi --variants nvshmem_opt,nccl_lsa --gpus $N --results $J/jacobi.jsonl > $J/norm-3.log 2>&1; echo "norm-3 rc=$?"
timeout 120 $G jacobi --variants nvshmem_opt,nccl_lsa --gpus $N --norm-every 0 --results $J/nonorm.jsonl > $J/nonorm.log 2>&1; echo "nonorm rc=$?"
grep -hE "^  " $J/norm-3.log $J/nonorm.log | cut -c1-150
# 2) host put, one stream against two, twice each (target >= 390 GB/s at >= 64 MiB).
P=$R/put; mkdir -p $P
for rep in 1 2; do for s in 1 2; do
  timeout 60 $G nvshmem put --np 2 --host --streams $s -b 64M -e 1G -f 4 --results $P/put.jsonl > $P/host-s$s-$rep.log 2>&1
  echo "put host streams $s rep $rep rc=$?: $(grep -E '^ +[0-9]' $P/host-s$s-$rep.log | awk '{printf "%s=%s(%s) ", $1, $(NF-1), $NF}')"
done; done
# 3) the review's refactor (nvshmem-ce through the session's peer mapping) and the IPC copy backend.
timeout 90 $G alltoall --np $N --backends nvshmem-ce,cuda-ce,nvshmem-direct -b 1M -e 64M -f 8 -n 10 -w 2 --results $R/a2a.jsonl > $R/a2a.log 2>&1; echo "a2a rc=$?"
grep -E "^#  *size|^ +[0-9]|unavailable|wrong bytes|^gpucomm:" $R/a2a.log | cut -c1-200
