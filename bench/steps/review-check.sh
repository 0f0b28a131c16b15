# After the review refactor: Jacobi baseline/kernel timing and nvshmem-ce/nvshmem-direct on a small run, checked.
timeout 60 $G jacobi --variants nvshmem_opt --gpus 2 --nx 1024 --ny 1027 -n 50 --no-results > $R/review-jacobi.log 2>&1; echo "jacobi rc=$?"; grep -E "^  |^# copy" $R/review-jacobi.log | cut -c1-140
timeout 60 $G alltoall --np 2 --backends nvshmem-ce,nvshmem-direct,cuda-ce -b 1M -e 16M -f 16 -n 5 -w 1 --no-results > $R/review-a2a.log 2>&1; echo "alltoall rc=$?"; grep -E "^ +[0-9]|Out of bounds|unavailable" $R/review-a2a.log
