# Issue 18, for the multi-GPU issue: `gpucomm moe` measures every style on 2, 4 and 8 GPUs (those
# visible; MOE_COUNTS overrides, e.g. "1" on one GPU) against PyTorch's all_to_all_single in the
# same call, the same shapes (MOE_PRESETS, default every preset; MOE_ARGS adds options, e.g.
# "--tokens 512") and the same byte accounting (the routing and bytes come from `gpucomm moe --dump`).
# Prints one line per operation (mean µs and GB/s by DeepEP LL's convention; every convention is in
# the results files). Sourced by bench/run-gpu.sh: sees $G, $N, $R. Every command bounded by timeout.
M=$R/moe-gpus; mkdir -p $M
COUNTS=${MOE_COUNTS:-"2 4 8"}
PRESETS=${MOE_PRESETS:-"deepep-ll deepep-normal pplx nccl-ep"}
for n in $COUNTS; do
  [ "$n" -le "$N" ] || { echo "moe on $n GPUs: waived ($N visible)"; continue; }
  for p in $PRESETS; do
    timeout 300 $G moe --np $n --styles all --preset $p ${MOE_ARGS:-} -n 20 -w 5 -T 120 --deepep-lines --results $M/gpucomm.jsonl > $M/gpucomm-$p-$n.log 2>&1
    echo "gpucomm moe --np $n --preset $p ${MOE_ARGS:-}: rc=$?"
    grep -E "^ +(nvshmem-put|nvlink-ll|nvlink-normal|nccl) +(layout|dispatch|combine)" $M/gpucomm-$p-$n.log | awk '{printf "  %-12s %-9s %9s us  deepep_ll %7s GB/s  wrong %s\n", $1, $2, $3, $8, $11}' | head -12
    grep -hE "^gpucomm:|FAILED" $M/gpucomm-$p-$n.log | head -3
    timeout 60 $G moe --dump $M/route-$p-$n.jsonl --ranks $n --preset $p ${MOE_ARGS:-} > /dev/null 2>&1 || echo "  dump rc=$?"
    timeout 300 python3 -m torch.distributed.run --nproc_per_node $n bench/torch_moe.py --dump $M/route-$p-$n.jsonl --iters 20 --warmup 5 \
      --out $M/torch.jsonl > $M/torch-$p-$n.log 2>&1
    echo "torch_moe.py --nproc $n --preset $p: rc=$?"
    grep -E "^torch .*(dispatch|combine)" $M/torch-$p-$n.log | awk '{for (i=1;i<=NF;i++) if ($i=="deepep_ll") g=$(i+1); printf "  %-12s %-9s %9s us  deepep_ll %7s GB/s  wrong %s\n", "torch", $8, $9, g, $NF}' | head -4
    grep -E "Error|error" $M/torch-$p-$n.log | tail -2
  done
done
