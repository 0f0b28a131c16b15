# Session 6, issue 15 (one benchmark driver): the same checks with the binary before the change
# ($BASE, built from de808ef and carried as .gpu/gpucomm-base.gz) and after it ($G), on the one
# GPU lent: the one-rank NCCL sweep, 8 B all_reduce graph-replayed, Jacobi on one GPU. Sourced by
# bench/run-gpu.sh; every command bounded by timeout.
BASE=/tmp/gpucomm-base
[ -f .gpu/gpucomm-base.gz ] && gzip -dc .gpu/gpucomm-base.gz > $BASE && chmod +x $BASE
D=$R/driver; mkdir -p $D
$G env > $D/env.txt 2>&1; echo "env rc=$?"; grep -E "nccl |nvshmem |NVIDIA" $D/env.txt | head -4
for who in base new; do
  bin=$G; [ $who = base ] && bin=$BASE
  [ -x "$bin" ] || { echo "no $who binary"; continue; }
  timeout 120 $bin nccl all_reduce all_gather reduce_scatter broadcast reduce alltoall sendrecv -b 8 -e 256M -f 4 -g 1 -n 20 -w 5 \
    --results $D/sweep-$who.jsonl > $D/sweep-$who.log 2>&1; echo "$who one-rank sweep rc=$?"
  timeout 60 $bin nccl all_reduce -b 8 -e 8 -g 1 -n 1000 -w 100 -G 20 --results $D/latency-$who.jsonl > $D/latency-$who.log 2>&1
  echo "$who 8 B all_reduce graph rc=$?: $(grep -E '^ +8 ' $D/latency-$who.log | awk '{print $6 " us"}')"
  timeout 90 $bin jacobi --variants all --gpus 1 --nx 8192 --ny 8192 -n 300 --results $D/jacobi-$who.jsonl > $D/jacobi-$who.log 2>&1
  echo "$who jacobi rc=$?"; grep -E "^  " $D/jacobi-$who.log | awk '{print "  " $1, $2, $3, $NF}' | head -12
done
python3 - $D <<'PY'
import json, sys
d = sys.argv[1]
def rows(p):
    out = {}
    for l in open(p):
        r = json.loads(l)
        if r.get("type") == "result" and r.get("variant") == "out_of_place":
            out[(r["benchmark"], r["size_bytes"])] = r
    return out
b, n = rows(f"{d}/sweep-base.jsonl"), rows(f"{d}/sweep-new.jsonl")
print("one-rank sweep, busbw new/base at 1M, 16M, 256M; wrong new, base")
for (k, s) in sorted(b):
    if s in (1 << 20, 16 << 20, 256 << 20) and (k, s) in n:
        x, y = n[(k, s)], b[(k, s)]
        ratio = x["busbw_gbps"] / y["busbw_gbps"] if y.get("busbw_gbps") else float("nan")
        print(f"  {k:15s} {s:>10d}  time {x['time_us']:9.2f} vs {y['time_us']:9.2f} us  algbw {x['algbw_gbps']:8.2f} vs {y['algbw_gbps']:8.2f}  wrong {x.get('wrong')} {y.get('wrong')}")
PY
