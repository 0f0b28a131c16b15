# Session 4's review refactor (CopyFanout on the shared CopyPlan, P2P chunk once per size,
# warp_sum in the Jacobi norm), re-checked: every copy-engine backend both modes with uneven
# pieces, the store/TMA all-to-all, a put, and the fused Jacobi variants on small grids.
# Sourced by bench/run-gpu.sh ($G, $N, $R, step()).
V=$R/review; mkdir -p $V
for m in pull push; do
  timeout 90 $G alltoall --np $N --backends nvshmem-ce,cuda-ce,cuda-ce-1p,nvshmem-direct,nvshmem-tma --copy-mode $m --copy-split 3 -b 64K -e 256M -f 64 -n 5 -w 1 --no-results > $V/a2a-$m.log 2>&1
  echo "[a2a $m] rc=$?"; grep -E "^#  *size|^ +[0-9]|unavailable|wrong bytes|^gpucomm:" $V/a2a-$m.log | cut -c1-200
done
timeout 60 $G nvshmem put --np 2 -b 1M -e 256M -f 16 --no-results > $V/put.log 2>&1; echo "[put] rc=$?"; grep -E "^ +[0-9]" $V/put.log
timeout 90 $G jacobi --variants nvshmem_opt,nccl_lsa --gpus 2,$N --nx 1030 --ny 1027 -n 100 --norm-every 1 --no-results > $V/jacobi.log 2>&1; echo "[jacobi] rc=$?"; grep -E "^  " $V/jacobi.log | awk '{print $1, $2, $7}' | tr '\n' ';'; echo
