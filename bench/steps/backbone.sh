# Backbone checks not yet run on a GPU: split communicators, -N cycles, -R 1/2 sweeps, hypercube,
# --csv, and 8-byte all_reduce latency with one process driving every GPU (repeated).
{
  echo "## split: --split-mask 1 (two communicators of N/2)"
  timeout 60 $G nccl all_reduce -b 1M -e 64M -f 4 -g $N --split-mask 1 --results $R/backbone.jsonl; echo "rc=$?"
  echo "## split across processes"
  timeout 60 $G nccl all_gather -b 1M -e 16M -f 4 --np $N --split-mask 1 --results $R/backbone.jsonl; echo "rc=$?"
  echo "## -N 3 cycles"
  timeout 60 $G nccl reduce_scatter -b 1M -e 4M -f 2 -g $N -N 3 --results $R/backbone.jsonl; echo "rc=$?"
  for reg in 1 2; do echo "## -R $reg sweep"
    timeout 90 $G nccl all_reduce all_gather alltoall -b 16 -e 256M -f 8 -g $N -R $reg --results $R/backbone.jsonl; echo "rc=$?"
  done
  echo "## hypercube"
  timeout 60 $G nccl hypercube -b 1M -e 256M -f 4 -g $N --results $R/backbone.jsonl; echo "rc=$?"
  echo "## csv"
  timeout 60 $G nccl all_reduce -b 1K -e 4K -f 2 -g $N --csv --no-results; echo "rc=$?"
} > $R/backbone.log 2>&1
grep -E "^## |rc=|Out of bounds|Avg bus|FAIL|rror" $R/backbone.log | cut -c1-160
grep -E "^ +(1048576|67108864|268435456) " $R/backbone.log | head -12 | cut -c1-130
head -3 <(grep -A2 "## csv" $R/backbone.log)
echo "## 8 B all_reduce, one process, $N GPUs, host timing, 3 runs of -n 2000"
for i in 1 2 3; do
  timeout 60 $G nccl all_reduce -b 8 -e 8 -g $N -n 2000 -w 200 --results $R/latency-g.jsonl 2>&1 | grep -E "^ +8 " | cut -c1-110
done
echo "## same, one process per GPU"
timeout 60 $G nccl all_reduce -b 8 -e 8 --np $N -n 2000 -w 200 --results $R/latency-g.jsonl 2>&1 | grep -E "^ +8 " | cut -c1-110
