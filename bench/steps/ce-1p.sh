# cuda-ce-1p: every copy of the copy-engine all-to-all issued by rank 0's process for all GPUs (the
# layout of the team's 356/383 GB/s one-process figures), beside cuda-ce (one process per GPU) and
# nccl-device, 32M..1G per rank; then --copy-split 2 and 4, pull (--copy-mode pull), event
# timing, and a small checked run on 2 GPUs with uneven pieces. Sourced by bench/run-gpu.sh ($G, $N, $R, step()).
C=$R/ce1p; mkdir -p $C; A=$R/ce1p.jsonl
one() { local name=$1 t=$2; shift 2; timeout $t "$@" --results $A > $C/$name.log 2>&1; echo "[$name] rc=$?"; grep -E "^#  *size|^ +[0-9]|unavailable|wrong bytes|FAILED|^gpucomm:|failed" $C/$name.log | cut -c1-200 | head -10; }
step "all-to-all by copy engines: one issuing process (cuda-ce-1p) vs one per GPU (cuda-ce), 32M..1G per rank"
one ce1p 240 $G alltoall --np $N --backends cuda-ce-1p,cuda-ce,nccl-device -b 32M -e 1G -f 2 -n 20 -w 5
for s in 2 4; do one ce1p-split$s 150 $G alltoall --np $N --backends cuda-ce-1p -b 32M -e 1G -f 2 -n 20 -w 5 --copy-split $s; done
one ce1p-pull 150 $G alltoall --np $N --backends cuda-ce-1p -b 32M -e 1G -f 2 -n 20 -w 5 --copy-mode pull
one ce1p-events 150 $G alltoall --np $N --backends cuda-ce-1p,cuda-ce -b 32M -e 1G -f 2 -n 20 -w 5 --timing events
step "cuda-ce-1p checked on 2 GPUs: --copy-split 3 push and pull, 64K..16M"
one ce1p-np2 90 $G alltoall --np 2 --backends cuda-ce-1p -b 64K -e 16M -f 16 -n 3 -w 1 --copy-split 3
one ce1p-np2-pull 90 $G alltoall --np 2 --backends cuda-ce-1p -b 64K -e 16M -f 16 -n 3 -w 1 --copy-split 3 --copy-mode pull
