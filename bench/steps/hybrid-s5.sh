# Session 5, call 4: copy engines and SMs together. Call 3's trace put cuda-ce-1p's copies at
# ~385 GB/s into each GPU even at 1 GiB, and its two barriers at ~35 us; the SM kernels top out
# at 370. --copy-sm P moves P% of every peer's block with an SM kernel (gc_copy16, pulling)
# beside the copy engines: more than 385 into a GPU only if the copy engines, not NVLink, limit.
# Also: which of serial rounds or the SM local copy rescued events-graph at large sizes in call 2.
# Sourced by bench/run-gpu.sh ($G, $N, $R, step()).
C=$R/hybrid; mkdir -p $C; A=$C/rows.jsonl
one() { local name=$1 t=$2; shift 2; timeout $t "$@" --results $A > $C/$name.log 2>&1; echo "[$name] rc=$?"; grep -E "^#  *size|^ +[0-9]|unavailable|wrong bytes|FAILED|^gpucomm:|failed|rror" $C/$name.log | cut -c1-200 | head -14; }
step "checked: --copy-sm 25 on 2 and $N GPUs, pull and push, split 3"
one check-sm-np2 60 $G alltoall --np 2 --backends cuda-ce-1p --copy-sync flags --copy-sm 25 --copy-split 3 -b 64K -e 16M -f 16 -n 3 -w 1
one check-sm-push 60 $G alltoall --np $N --backends cuda-ce-1p --copy-sync events --copy-sm 25 --copy-mode push -b 64K -e 16M -f 16 -n 3 -w 1
step "--copy-sm 0..90 with --copy-sync flags, 64M..1G per rank, -n 30"
for p in 0 5 10 15 20 30 50 90; do
  one sm$p 90 $G alltoall --np $N --backends cuda-ce-1p --copy-sync flags --copy-sm $p -b 64M -e 1G -f 4 -n 30 -w 5
done
step "traced at --copy-sm 0, 10, 20"
for p in 0 10 20; do GPUCOMM_COPY_TRACE=1 one trace-sm$p 90 $G alltoall --np $N --backends cuda-ce-1p --copy-sync flags --copy-sm $p -b 256M -e 1G -f 4 -n 20 -w 5 -c 0; done
python3 - "$A" <<'PY'
import json, sys
keys = ["trace_barrier1", "trace_start", "trace_local", "trace_peers", "trace_join", "trace_barrier2", "trace_gap", "trace_total"]
print("%-4s %11s %9s " % ("sm%", "size", "time") + " ".join("%9s" % k[6:] for k in keys))
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("type") != "result": continue
    lab = r.get("labels", {})
    if "trace_total" not in lab: continue
    print("%-4s %11d %9.2f " % (lab.get("copy_sm_percent"), r["size_bytes"], r["time_us"]) + " ".join("%9s" % lab.get(k, "-") for k in keys))
PY
step "events-graph at 64M..1G: serial rounds alone, SM local copy alone"
one egraph-serial 90 $G alltoall --np $N --backends cuda-ce-1p --copy-sync events-graph --copy-rounds serial -b 64M -e 1G -f 4 -n 20 -w 5
one egraph-smlocal 90 $G alltoall --np $N --backends cuda-ce-1p --copy-sync events-graph --copy-local sm -b 64M -e 1G -f 4 -n 20 -w 5
