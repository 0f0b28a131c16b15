# The one-kernel-per-iteration Jacobi variants with their default grids (nvshmem_opt one wave,
# nccl_lsa 16-row blocks): small grids checked, then 16384² on 2 and $N GPUs (twice at $N).
# Sourced by bench/run-gpu.sh.
J=$R/jacobi-fused; mkdir -p $J
timeout 90 $G jacobi --variants nvshmem_opt,nccl_lsa --gpus 2,$N --nx 1030 --ny 1027 -n 100 --norm-every 1 --no-results > $J/small.log 2>&1; echo "small rc=$?"
timeout 90 $G jacobi --variants nvshmem_opt,nccl_lsa --gpus 2,$N --nx 1024 --ny 1027 -n 100 --norm-every 3 --no-results > $J/small4.log 2>&1; echo "small4 rc=$?"
grep -hE "^  " $J/small.log $J/small4.log | awk '{print $1, $2, $7}' | tr '\n' ';'; echo
timeout 120 $G jacobi --variants nvshmem_opt,nccl_lsa --gpus 2,$N --results $J/jacobi.jsonl > $J/norm-1.log 2>&1; echo "norm rc=$?"
timeout 120 $G jacobi --variants nvshmem_opt,nccl_lsa --gpus $N --results $J/jacobi.jsonl > $J/norm-2.log 2>&1; echo "norm rc=$?"
grep -hE "^  |^# copy" $J/norm-*.log | cut -c1-150
