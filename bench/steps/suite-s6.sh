# Session 6: the suite on the one GPU lent (registry-driven), and bad input before any GPU work.
U=$R/suite; mkdir -p $U
timeout 400 $G suite -e 64M -n 10 --results $U/suite.jsonl --report-dir $U/report > $U/suite.log 2> $U/suite.err; echo "suite rc=$?"
cat $U/suite.log | head -40
for args in "nccl all_reduce -o bogus" "nccl all_reduce -b 1G -e 1M" "nccl all_reduce -g 2" "alltoall --np 2" "jacobi --gpus 2" "suite -n 0"; do
  rm -f $U/bad.jsonl; $G $args --results $U/bad.jsonl > /dev/null 2> $U/bad.err; rc=$?
  echo "  gpucomm $args: rc=$rc, file $( [ -e $U/bad.jsonl ] && echo WRITTEN || echo absent): $(head -c 160 $U/bad.err)"
done
