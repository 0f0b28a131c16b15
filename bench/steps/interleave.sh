# Do SM and TMA stores into a peer slow down above 64 MiB because the blocks spread over the whole
# buffer at once? Point-to-point: TMA put and block put (both ways) with even pieces (--chunk 0)
# against round-robin pieces; all-to-all: nvshmem-direct and nvshmem-tma with
# --interleave 0/64K/256K/1M (at 5dd42fd the env knob GPUCOMM_A2A_INTERLEAVE) beside nccl-device; a checked 2-GPU run with 4K pieces.
# Sourced by bench/run-gpu.sh ($G, $N, $R, step()).
I=$R/interleave; mkdir -p $I; J=$I/rows.jsonl
show() { grep -E "^ +[0-9]|^# best|^#  *size|unavailable|wrong bytes|^gpucomm:" $I/$1.log | cut -c1-160 | head -${2:-14}; }
step "TMA put, even pieces vs round-robin 256K / 1M, 64M..1G"
timeout 120 $G nvshmem put --np 2 --scope tma -b 64M -e 1G -f 2 --chunk 0,256K,1M --results $J > $I/tma.log 2>&1; echo "[tma] rc=$?"; show tma 20
step "block put both ways, even vs 256K, 256M and 1G"
timeout 90 $G nvshmem put --np 2 --bidirectional -b 256M -e 1G -f 4 --chunk 0,256K --results $J > $I/bidir.log 2>&1; echo "[bidir] rc=$?"; show bidir
step "all-to-all: direct and TMA by interleave, 64M..1G per rank"
for v in 0 64K 256K 1M; do
  timeout 120 $G alltoall --np $N --backends nvshmem-direct,nvshmem-tma,nccl-device -b 64M -e 1G -f 4 -n 20 -w 5 --interleave $v --results $J > $I/a2a-$v.log 2>&1
  echo "[a2a interleave $v] rc=$?"; show a2a-$v 6
done
timeout 120 $G alltoall --np $N --backends nvshmem-direct,nvshmem-tma -b 64M -e 1G -f 4 -n 20 -w 5 --blocks 256 --interleave 256K --results $J > $I/a2a-256K-b256.log 2>&1
echo "[a2a interleave 256K --blocks 256] rc=$?"; show a2a-256K-b256 6
step "checked on 2 GPUs with 4K pieces, 64K..16M"
timeout 90 $G alltoall --np 2 --backends nvshmem-direct,nvshmem-tma -b 64K -e 16M -f 16 -n 3 -w 1 --interleave 4K --results $J > $I/np2.log 2>&1; echo "[np2] rc=$?"; show np2 6
