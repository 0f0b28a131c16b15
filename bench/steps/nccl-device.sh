# NCCL device API (LSA) all-to-all: correctness, busbw per size for both kernels (-D 1 basic,
# -D 2 optimized), a block-count sweep to choose the default, and plain NCCL for comparison.
# Every row is checked (#wrong must be 0); rc 5 = device API unavailable (its one line is printed).
step "nccl-device alltoall: -D 1 and -D 2, default blocks (8 per rank), 1M..1G"
timeout 300 $G nccl-device alltoall --np $N -b 1M -e 1G -f 2 -D 1,2 -n 20 -w 5 -T 60 \
  --results $R/nccl-device.jsonl > $R/nccl-device-sizes.log 2>&1
echo "rc=$?"; grep -E "^#  |^ +[0-9]|gpucomm:" $R/nccl-device-sizes.log | grep -v "^#  Rank" | cut -c1-100

step "nccl-device alltoall -D 2: blocks 4,8,16,64,128 at 16M..1G (choose the default)"
timeout 300 $G nccl-device alltoall --np $N -b 16M -e 1G -f 4 -D 2 --blocks $N,$((2*N)),$((4*N)),$((16*N)),$((32*N)) -n 20 -w 5 -T 60 \
  --results $R/nccl-device.jsonl > $R/nccl-device-blocks.log 2>&1
echo "rc=$?"; grep -E "^ +[0-9]|gpucomm:" $R/nccl-device-blocks.log | cut -c1-100

step "nccl-device alltoall -D 1: blocks $((4*N)),$((16*N)) at 64M and 1G"
timeout 200 $G nccl-device alltoall --np $N -b 64M -e 1G -f 16 -D 1 --blocks $((4*N)),$((16*N)) -n 20 -w 5 -T 60 \
  --results $R/nccl-device.jsonl > $R/nccl-device-basic.log 2>&1
echo "rc=$?"; grep -E "^ +[0-9]|gpucomm:" $R/nccl-device-basic.log | cut -c1-100

step "plain NCCL alltoall, same sizes, --np $N (compare busbw, out-of-place column)"
timeout 300 $G nccl alltoall --np $N -b 1M -e 1G -f 2 -n 20 -w 5 -T 60 --results $R/nccl-device.jsonl > $R/nccl-plain.log 2>&1
echo "rc=$?"; grep -E "^ +[0-9]" $R/nccl-plain.log | awk '{printf "%12s  time %8s us  busbw %7s  #wrong %s\n", $1, $6, $8, $9}'
