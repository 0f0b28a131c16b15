# Session 5, call 5: cuda-ce-1p with rank 0 relaying instead of two barriers (--copy-sync
# relay-events | relay-memops): one signal from rank 0's stream to every GPU to start, one from
# every GPU back when its copies are joined. Against flags (two barrier kernels per all-to-all).
# Sourced by bench/run-gpu.sh ($G, $N, $R, step()).
C=$R/relay; mkdir -p $C; A=$C/rows.jsonl
one() { local name=$1 t=$2; shift 2; timeout $t "$@" --results $A > $C/$name.log 2>&1; echo "[$name] rc=$?"; grep -E "^#  *size|^ +[0-9]|unavailable|wrong bytes|FAILED|^gpucomm:|failed|rror" $C/$name.log | cut -c1-200 | head -14; }
step "relay checked on 2 and $N GPUs, pull and push, split 3, SM share"
for s in relay-events relay-memops; do
  one check-$s-np2 60 $G alltoall --np 2 --backends cuda-ce-1p --copy-sync $s --copy-split 3 -b 64K -e 16M -f 16 -n 3 -w 1
  one check-$s-push 60 $G alltoall --np $N --backends cuda-ce-1p --copy-sync $s --copy-mode push --copy-sm 25 -b 64K -e 16M -f 16 -n 3 -w 1
done
step "sweeps 16K..1G, pull"
for s in relay-events relay-memops flags; do one sweep-$s 90 $G alltoall --np $N --backends cuda-ce-1p --copy-sync $s -b 16K -e 1G -f 4 -n 20 -w 5; done
step "repeats at 64M, 256M and 1G, -n 50"
for rep in 1 2 3; do for s in relay-events relay-memops flags; do
  one rep$rep-$s 90 $G alltoall --np $N --backends cuda-ce-1p --copy-sync $s -b 64M -e 1G -f 4 -n 50 -w 5 -c 0
done; done
