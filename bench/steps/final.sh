# Last checks of the session: the -R 2 sweep's exit (window deregistration), selftest with its
# NVSHMEM stage, and Jacobi with a 1-GPU job and without the per-iteration norm.
timeout 90 $G nccl all_reduce all_gather alltoall -b 16 -e 256M -f 8 -g $N -R 2 --results $R/final.jsonl > $R/r2.log 2>&1; echo "-R 2 sweep rc=$?"
grep -E "Out of bounds|Known" $R/r2.log | cut -c1-120
timeout 150 $G selftest --mode single --nvshmem off -T 20 > $R/selftest-single.log 2>&1; echo "selftest single rc=$?"
timeout 240 $G selftest --mode ranks -T 20 > $R/selftest-ranks.log 2>&1; echo "selftest ranks + NVSHMEM rc=$?"
grep -hE "^selftest|FAIL|WRONG|known NCCL|waived" $R/selftest-*.log | cut -c1-200 | head -30
timeout 150 $G jacobi --variants all --gpus 1,$N --results $R/jacobi.jsonl > $R/jacobi-1n.log 2>&1; echo "jacobi 1,$N rc=$?"
grep -E "^  |^# copy|gpucomm:" $R/jacobi-1n.log | cut -c1-110 | head -24
timeout 100 $G jacobi --variants nccl,nccl_graphs,nvshmem_block,nvshmem_opt --gpus $N --norm-every 0 --results $R/jacobi.jsonl > $R/jacobi-nonorm.log 2>&1; echo "jacobi no norm rc=$?"
grep -E "^  |^# copy|gpucomm:" $R/jacobi-nonorm.log | cut -c1-110 | head -12
