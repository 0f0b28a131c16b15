# Session 5, call 2: what is left of cuda-ce-1p's fixed cost with --copy-sync flags (48 us per
# all-to-all above a 391.6 GB/s rate in call 1)? Two suspects: the local block's copy sharing a
# copy engine with a peer's (--copy-local sm moves it to an SM kernel), and the peers' three
# copies finishing unevenly (--copy-rounds serial runs them one after another on one stream).
# Sourced by bench/run-gpu.sh ($G, $N, $R, step()).
C=$R/local; mkdir -p $C; A=$C/rows.jsonl
one() { local name=$1 t=$2; shift 2; timeout $t "$@" --results $A > $C/$name.log 2>&1; echo "[$name] rc=$?"; grep -E "^#  *size|^ +[0-9]|unavailable|wrong bytes|FAILED|^gpucomm:|failed|rror" $C/$name.log | cut -c1-200 | head -14; }
step "checked: serial rounds and SM local copies on 2 and $N GPUs, push and pull, split 3"
one check-np2 60 $G alltoall --np 2 --backends nvshmem-ce,cuda-ce,cuda-ce-1p --copy-rounds serial --copy-local sm --copy-sync flags -b 64K -e 16M -f 16 -n 3 -w 1 --copy-split 3
one check-push 60 $G alltoall --np $N --backends nvshmem-ce,cuda-ce,cuda-ce-1p --copy-rounds serial --copy-local sm --copy-mode push -b 64K -e 16M -f 16 -n 3 -w 1 --copy-split 3
step "cuda-ce-1p sweeps 16K..1G, pull, flags: local ce|sm x rounds parallel|serial"
for r in parallel serial; do for l in ce sm; do
  one sweep-flags-$r-$l 90 $G alltoall --np $N --backends cuda-ce-1p --copy-sync flags --copy-rounds $r --copy-local $l -b 16K -e 1G -f 4 -n 20 -w 5
done; done
one sweep-events-serial-sm 90 $G alltoall --np $N --backends cuda-ce-1p --copy-sync events --copy-rounds serial --copy-local sm -b 16K -e 1G -f 4 -n 20 -w 5
one sweep-egraph-serial-sm 90 $G alltoall --np $N --backends cuda-ce-1p --copy-sync events-graph --copy-rounds serial --copy-local sm -b 16K -e 1G -f 4 -n 20 -w 5
step "repeats at 64M, 256M and 1G, -n 50"
for rep in 1 2; do for r in parallel serial; do for l in ce sm; do
  one rep$rep-$r-$l 90 $G alltoall --np $N --backends cuda-ce-1p --copy-sync flags --copy-rounds $r --copy-local $l -b 64M -e 1G -f 4 -n 50 -w 5 -c 0
done; done; done
