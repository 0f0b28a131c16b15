# gpucomm jacobi: every programming-model variant, checked against one GPU (issue 5).
# 1) quick check on small grids (odd nx: one column per thread; nx % 4 == 0: four), uneven
#    split, every variant, 2 and $N GPUs, norm every 3
# 2) the study's comparison at 16384², 1000 iterations, 1, 2 and $N GPUs, with -csv lines.
# 3) the one-kernel-per-iteration variants without the norm (--norm-every 0), 2 and $N GPUs.
timeout 120 $G jacobi --variants all --gpus 2,$N --nx 1030 --ny 1027 -n 100 --norm-every 3 --csv \
  --results $R/jacobi-small.jsonl > $R/jacobi-small.log 2>&1; echo "jacobi small rc=$?"
grep -E "^  |^#.*copy|FAIL|error|wrong" $R/jacobi-small.log | grep -v "^#  Rank" | cut -c1-150 | head -30
# the same with nx % 4 == 0 (four columns per thread), uneven rows
timeout 120 $G jacobi --variants all --gpus 2,$N --nx 1024 --ny 1027 -n 100 --norm-every 3 \
  --results $R/jacobi-small.jsonl > $R/jacobi-small4.log 2>&1; echo "jacobi small nx%4=0 rc=$?"
grep -E "^  |FAIL|error|wrong" $R/jacobi-small4.log | grep -v "^#  Rank" | cut -c1-150 | head -30
timeout 300 $G jacobi --variants all --gpus 1,2,$N --csv --results $R/jacobi.jsonl > $R/jacobi.log 2>&1; echo "jacobi 16384² rc=$?"
grep -E "^  |^# (gpucomm|copy)|error|wrong" $R/jacobi.log | cut -c1-170 | head -45
timeout 200 $G jacobi --variants nvshmem_opt,nccl_lsa --gpus 2,$N --norm-every 0 --results $R/jacobi-nonorm.jsonl \
  > $R/jacobi-nonorm.log 2>&1; echo "jacobi no norm rc=$?"
grep -E "^  |error|wrong" $R/jacobi-nonorm.log | cut -c1-170 | head -10
$G report $R/jacobi.jsonl --out $R/jacobi-report > $R/jacobi-report.log 2>&1; echo "report rc=$?"; ls $R/jacobi-report | head -12
