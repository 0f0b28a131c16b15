# Jacobi per-iteration overhead at 4 GPUs: the kernel alone on a one-GPU grid and on a 4-GPU
# slab (16-row blocks vs one wave), then the one-kernel-per-iteration variants, checked on small
# grids and timed at 16384² with and without the norm. Sourced by bench/run-gpu.sh.
J=$R/jacobi-tune; mkdir -p $J
step "kernel alone: 16384 x 16384 and 16384 x 4098 (a 4-GPU slab)"
for ny in 16384 4098; do timeout 60 $G _stencil-tune --ny $ny --shapes 16x1,32x1,64x1,wave > $J/tune-$ny.log 2>&1; echo "tune $ny rc=$?"; cat $J/tune-$ny.log; done
step "small grids, checked (odd nx; nx % 4 == 0), 2 and $N GPUs"
timeout 90 $G jacobi --variants nvshmem_opt,nccl_lsa,nccl --gpus 2,$N --nx 1030 --ny 1027 -n 100 --norm-every 1 --no-results > $J/small.log 2>&1; echo "small rc=$?"
timeout 90 $G jacobi --variants nvshmem_opt,nccl_lsa,nccl --gpus 2,$N --nx 1024 --ny 1027 -n 100 --norm-every 3 --no-results > $J/small4.log 2>&1; echo "small4 rc=$?"
grep -hE "^  " $J/small.log $J/small4.log | cut -c1-120
step "16384², $N GPUs: norm every iteration and none"
timeout 120 $G jacobi --variants nvshmem_opt,nccl_lsa,nccl --gpus $N --results $J/jacobi.jsonl > $J/norm.log 2>&1; echo "norm rc=$?"
timeout 120 $G jacobi --variants nvshmem_opt,nccl_lsa --gpus $N --norm-every 0 --results $J/jacobi.jsonl > $J/nonorm.log 2>&1; echo "nonorm rc=$?"
grep -hE "^  |^# copy" $J/norm.log $J/nonorm.log | cut -c1-150
