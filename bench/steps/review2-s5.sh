# Session 5, the whole-change review (refactors only: prepared kernel arguments, device-epoch
# barrier for cuda-ce, one NVSHMEM prelude, Jacobi argument caches, NCCL group helper, ...):
# every Jacobi variant on small grids checked on 2 and $N GPUs, then selftest one process per GPU
# (NCCL, NVSHMEM, every all-to-all backend) and one process. Sourced by bench/run-gpu.sh.
J=$R/jacobi-small; mkdir -p $J
timeout 60 $G jacobi --variants all --gpus 2,$N --nx 1030 --ny 1027 -n 100 --norm-every 1 --no-results > $J/small.log 2>&1; echo "jacobi small rc=$?"
timeout 60 $G jacobi --variants all --gpus 2,$N --nx 1024 --ny 1027 -n 100 --norm-every 3 --no-results > $J/small4.log 2>&1; echo "jacobi small4 rc=$?"
grep -hE "^  " $J/small.log $J/small4.log | awk '{print $1, $2, $NF}' | tr '\n' ';'; echo
timeout 40 $G nccl all_reduce -b 1M -e 16M -f 4 -g $N --split-mask 1 -n 5 -w 1 --no-results > $R/split.log 2>&1; echo "split one process rc=$?"
timeout 40 $G nccl all_gather -b 1M -e 16M -f 4 --np $N --split-mask 1 -n 5 -w 1 --no-results > $R/split-np.log 2>&1; echo "split per GPU rc=$?"
grep -hE "^ +[0-9]" $R/split.log $R/split-np.log | head -4 | cut -c1-120
for h in nvshmem cuda; do for s in 1 2; do
  timeout 40 $G nvshmem put --np 2 --host --host-copy $h --streams $s -b 64M -e 256M -f 4 --no-results > $R/put-$h-$s.log 2>&1
  echo "put host $h streams $s rc=$?: $(grep -E '^ +[0-9]' $R/put-$h-$s.log | awk '{printf "%s=%s(%s) ", $1, $(NF-1), $NF}')"
done; done
timeout 170 $G selftest --mode ranks -T 20 > $R/selftest-ranks.log 2>&1; echo "selftest ranks rc=$?"
grep -hE "^selftest|FAIL|did not finish" $R/selftest-ranks.log | cut -c1-200
timeout 120 $G selftest --mode single --nvshmem off -T 20 > $R/selftest-single.log 2>&1; echo "selftest single rc=$?"
grep -hE "^selftest|FAIL|did not finish" $R/selftest-single.log | cut -c1-200
