# Session 5, review: cuda-ce-1p's copies issued by one shared loop for every --copy-sync (Swift
# only). Every ordering checked on 4 GPUs with uneven pieces, pull and push, one traced flags run.
# Sourced by bench/run-gpu.sh ($G, $N, $R, step()).
C=$R/review; mkdir -p $C; A=$C/rows.jsonl
one() { local name=$1 t=$2; shift 2; timeout $t "$@" --results $A > $C/$name.log 2>&1; echo "[$name] rc=$?"; grep -E "^ +[0-9]|unavailable|wrong bytes|FAILED|^gpucomm:|failed|rror" $C/$name.log | cut -c1-120 | head -6; }
step "every --copy-sync checked, 64K..64M, split 3, pull then push"
for s in relay flags events events-graph; do
  one $s 60 $G alltoall --np $N --backends cuda-ce-1p --copy-sync $s --copy-split 3 -b 64K -e 64M -f 32 -n 5 -w 1
  one $s-push 60 $G alltoall --np $N --backends cuda-ce-1p --copy-sync $s --copy-mode push --copy-rounds serial -b 64K -e 64M -f 32 -n 5 -w 1
done
GPUCOMM_COPY_TRACE=1 one trace 60 $G alltoall --np $N --backends cuda-ce-1p --copy-sync flags -b 256M -e 256M -n 20 -w 5
grep -o '"trace_[a-z0-9]*":"[0-9.]*"' $A | tr '\n' ' '; echo
