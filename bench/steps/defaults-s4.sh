# Session 4's new defaults, checked and measured: point-to-point puts with the automatic chunk
# (256 KiB pieces round-robin once an equal piece would be larger) at block and TMA scope, one way
# and both ways; nvshmem-direct / nvshmem-tma with --interleave 256K beside nccl-device and
# cuda-ce-1p; small checked runs on 2 GPUs. Sourced by bench/run-gpu.sh ($G, $N, $R, step()).
D=$R/defaults; mkdir -p $D; J=$D/rows.jsonl
show() { grep -E "^ +[0-9]|^#  *size|unavailable|wrong bytes|^gpucomm:" $D/$1.log | cut -c1-160 | head -${2:-12}; }
step "put, default chunk: block scope and TMA, 1M..1G; both ways at 256M and 1G"
timeout 90 $G nvshmem put --np 2 -b 1M -e 1G -f 4 --results $J > $D/put.log 2>&1; echo "[put] rc=$?"; show put
timeout 90 $G nvshmem put --np 2 --scope tma -b 1M -e 1G -f 4 --results $J > $D/tma.log 2>&1; echo "[tma] rc=$?"; show tma
timeout 90 $G nvshmem put --np 2 --bidirectional -b 256M -e 1G -f 4 --results $J > $D/bidir.log 2>&1; echo "[bidir] rc=$?"; show bidir
timeout 90 $G nvshmem get --np 2 -b 64M -e 1G -f 4 --results $J > $D/get.log 2>&1; echo "[get] rc=$?"; show get
step "all-to-all defaults, 16M..1G per rank"
timeout 150 $G alltoall --np $N --backends nvshmem-direct,nvshmem-tma,nccl-device,cuda-ce-1p -b 16M -e 1G -f 4 -n 20 -w 5 --results $J > $D/a2a.log 2>&1; echo "[a2a] rc=$?"; show a2a
