# Session 5, call 3: where cuda-ce-1p's time goes. GPUCOMM_COPY_TRACE=1 puts per-part times
# (timing events on every GPU, last 8 all-to-alls) into the rows; --copy-sync memops makes the
# two barriers of stream memory operations instead of a kernel. Sourced by bench/run-gpu.sh.
C=$R/trace; mkdir -p $C; A=$C/rows.jsonl
one() { local name=$1 t=$2; shift 2; timeout $t "$@" --results $A > $C/$name.log 2>&1; echo "[$name] rc=$?"; grep -E "^#  *size|^ +[0-9]|unavailable|wrong bytes|FAILED|^gpucomm:|failed|rror" $C/$name.log | cut -c1-200 | head -14; }
step "tools: nsys / ncu present?"
which nsys ncu 2>&1; ls /usr/local/cuda*/bin 2>/dev/null | grep -E "nsys|ncu" | head -3; python3 -c "import nvidia, os; print(os.listdir(os.path.dirname(nvidia.__path__[0]+'/')))" 2>&1 | head -2
step "memops checked on 2 and $N GPUs, push and pull, split 3, serial"
one check-memops-np2 60 $G alltoall --np 2 --backends cuda-ce-1p --copy-sync memops --copy-split 3 -b 64K -e 16M -f 16 -n 3 -w 1
one check-memops-push 60 $G alltoall --np $N --backends cuda-ce-1p --copy-sync memops --copy-mode push --copy-rounds serial -b 64K -e 16M -f 16 -n 3 -w 1
step "memops sweep 16K..1G, pull"
one sweep-memops 90 $G alltoall --np $N --backends cuda-ce-1p --copy-sync memops -b 16K -e 1G -f 4 -n 20 -w 5
step "traced: flags and memops, parallel and serial rounds, 16M..1G"
for s in flags memops; do for r in parallel serial; do
  GPUCOMM_COPY_TRACE=1 one trace-$s-$r 90 $G alltoall --np $N --backends cuda-ce-1p --copy-sync $s --copy-rounds $r -b 16M -e 1G -f 4 -n 20 -w 5 -c 0
done; done
python3 - "$A" <<'PY'
import json, sys
keys = ["trace_barrier1", "trace_start", "trace_local", "trace_peers", "trace_join", "trace_barrier2", "trace_gap", "trace_total"]
print("%-8s %-9s %11s %9s " % ("sync", "rounds", "size", "time") + " ".join("%9s" % k[6:] for k in keys))
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("type") != "result": continue
    lab = r.get("labels", {})
    if "trace_total" not in lab: continue
    print("%-8s %-9s %11d %9.2f " % (lab.get("copy_sync"), lab.get("copy_rounds"), r["size_bytes"], r["time_us"]) + " ".join("%9s" % lab.get(k, "-") for k in keys))
PY
step "repeats at 256M and 1G, -n 50: memops, flags"
for rep in 1 2; do for s in memops flags; do
  one rep$rep-$s 90 $G alltoall --np $N --backends cuda-ce-1p --copy-sync $s -b 256M -e 1G -f 4 -n 50 -w 5 -c 0
done; done
