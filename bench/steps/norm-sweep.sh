# Session 4, call 2: what the device norm costs per check. Per-warp sums (no block barrier),
# ordering-only events. Small grids checked; then at 16384² on $N GPUs nvshmem_opt and nccl_lsa
# with the norm every 1 (three runs) and never. Sourced by bench/run-gpu.sh ($G, $N, $R).
J=$R/norm-sweep; mkdir -p $J
timeout 90 $G jacobi --variants nvshmem_opt,nccl_lsa --gpus 2,$N --nx 1030 --ny 1027 -n 100 --norm-every 1 --no-results > $J/small.log 2>&1; echo "small rc=$?"
timeout 90 $G jacobi --variants nvshmem_opt,nccl_lsa --gpus 2,$N --nx 1024 --ny 1027 -n 100 --norm-every 3 --no-results > $J/small4.log 2>&1; echo "small4 rc=$?"
grep -hE "^  " $J/small.log $J/small4.log | awk '{print $1, $2, $7}' | tr '\n' ';'; echo
for k in 1 1 1 0; do
  timeout 120 $G jacobi --variants nvshmem_opt,nccl_lsa --gpus $N --norm-every $k --results $J/jacobi.jsonl > $J/every-$k.log 2>&1
  echo "norm every $k rc=$?: $(grep -hE '^  ' $J/every-$k.log | awk '{printf "%s %s us %s; ", $1, $4, $6}')"
done
grep -h "^# copy" $J/every-*.log | cut -c1-150 | sort | uniq -c | head -4
