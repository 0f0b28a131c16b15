# Session 5: cuda-ce-1p's ordering across GPUs (--copy-sync events | events-graph | flags |
# flags-graph), checked on 2 and 4 GPUs, then swept 16K..1G per rank and repeated at 256M/1G.
# Question: is the ~64 us per all-to-all above the copy rate the cross-device events?
# Sourced by bench/run-gpu.sh ($G, $N, $R, step()).
C=$R/sync; mkdir -p $C; A=$C/rows.jsonl
one() { local name=$1 t=$2; shift 2; timeout $t "$@" --results $A > $C/$name.log 2>&1; echo "[$name] rc=$?"; grep -E "^#  *size|^ +[0-9]|unavailable|wrong bytes|FAILED|^gpucomm:|failed|rror" $C/$name.log | cut -c1-200 | head -14; }
step "cuda-ce-1p --copy-sync: checked on 2 and $N GPUs (64K..16M), pull and push, split 1 and 3"
for s in events-graph flags flags-graph; do
  one check-$s-np2 60 $G alltoall --np 2 --backends cuda-ce-1p --copy-sync $s -b 64K -e 16M -f 16 -n 3 -w 1 --copy-split 3
  one check-$s-push 60 $G alltoall --np $N --backends cuda-ce-1p --copy-sync $s -b 64K -e 16M -f 16 -n 3 -w 1 --copy-mode push
done
step "cuda-ce-1p --copy-sync sweep, 16K..1G per rank, pull, -n 20"
for s in events events-graph flags flags-graph; do one sweep-$s 90 $G alltoall --np $N --backends cuda-ce-1p --copy-sync $s -b 16K -e 1G -f 4 -n 20 -w 5; done
step "repeats at 256M and 1G, -n 50"
for rep in 1 2; do for s in events flags flags-graph events-graph; do
  one rep$rep-$s 90 $G alltoall --np $N --backends cuda-ce-1p --copy-sync $s -b 256M -e 1G -f 4 -n 50 -w 5 -c 0
done; done
