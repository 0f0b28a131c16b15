# Copy-engine all-to-all with --copy-mode pull (the receiver's copy engines read from the sender)
# in all three copy backends, beside nccl-device; --copy-split 2 and 4; event timing; a checked run
# on 2 GPUs with uneven pieces. Sourced by bench/run-gpu.sh ($G, $N, $R, step()).
C=$R/ce-pull; mkdir -p $C; A=$R/ce-pull.jsonl
one() { local name=$1 t=$2; shift 2; timeout $t "$@" --results $A > $C/$name.log 2>&1; echo "[$name] rc=$?"; grep -E "^#  *size|^ +[0-9]|unavailable|wrong bytes|FAILED|^gpucomm:|failed" $C/$name.log | cut -c1-200 | head -10; }
step "copy engines, pull: cuda-ce-1p, cuda-ce, nvshmem-ce vs nccl-device, 32M..1G per rank"
one pull 240 $G alltoall --np $N --backends cuda-ce-1p,cuda-ce,nvshmem-ce,nccl-device --copy-mode pull -b 32M -e 1G -f 2 -n 20 -w 5
for s in 2 4; do one pull-split$s 150 $G alltoall --np $N --backends cuda-ce-1p,nvshmem-ce --copy-mode pull -b 32M -e 1G -f 2 -n 20 -w 5 --copy-split $s; done
one pull-events 150 $G alltoall --np $N --backends cuda-ce-1p,nvshmem-ce --copy-mode pull -b 32M -e 1G -f 2 -n 20 -w 5 --timing events
step "pull checked on 2 GPUs, --copy-split 3, 64K..16M"
one pull-np2 90 $G alltoall --np 2 --backends cuda-ce-1p,cuda-ce,nvshmem-ce --copy-mode pull -b 64K -e 16M -f 16 -n 3 -w 1 --copy-split 3
