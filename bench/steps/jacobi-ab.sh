# Jacobi one-kernel-per-iteration variants: one wave of blocks (default) against 16-row blocks
# with boundary rows first (GPUCOMM_JACOBI_FUSED_GRID=rows), the service block first in both;
# checked on small grids, timed at 16384² on $N GPUs. Sourced by bench/run-gpu.sh.
J=$R/jacobi-ab; mkdir -p $J
for g in wave rows; do
  export GPUCOMM_JACOBI_FUSED_GRID=$g
  step "grid $g: small grids checked, 2 and $N GPUs"
  timeout 90 $G jacobi --variants nvshmem_opt,nccl_lsa,nvshmem_block --gpus 2,$N --nx 1030 --ny 1027 -n 100 --norm-every 1 --no-results > $J/small-$g.log 2>&1; echo "small rc=$?"
  timeout 90 $G jacobi --variants nvshmem_opt,nccl_lsa,nvshmem_block --gpus 2,$N --nx 1024 --ny 1027 -n 100 --norm-every 3 --no-results > $J/small4-$g.log 2>&1; echo "small4 rc=$?"
  grep -hE "^  " $J/small-$g.log $J/small4-$g.log | awk '{print $1, $2, $7}' | tr '\n' ';'; echo
  step "grid $g: 16384², $N GPUs, norm every iteration (twice) and none"
  for i in 1 2; do timeout 120 $G jacobi --variants nvshmem_opt,nccl_lsa --gpus $N --results $J/jacobi-$g.jsonl > $J/norm-$g-$i.log 2>&1; echo "norm rc=$?"; done
  timeout 120 $G jacobi --variants nvshmem_opt,nccl_lsa --gpus $N --norm-every 0 --results $J/jacobi-$g.jsonl > $J/nonorm-$g.log 2>&1; echo "nonorm rc=$?"
  grep -hE "^  |^# copy" $J/norm-$g-*.log $J/nonorm-$g.log | cut -c1-150
done
unset GPUCOMM_JACOBI_FUSED_GRID
