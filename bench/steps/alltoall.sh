# All-to-all over every backend (checked), the 4 KiB-per-peer latency, kernel variants for the
# defaults (blocks, threads), the chunk-size sweep, NVSHMEM barrier latency, and PyTorch's
# all_to_all_single as the peer. Full logs and results under $R/a2a*; stdout: the tables and rc's.
A=$R/a2a.jsonl
a2a() { local name=$1 t=$2; shift 2; timeout $t $G alltoall --np $N "$@" --results $A > $R/a2a-$name.log 2>&1; echo "[$name] rc=$?"; grep -E "^#  *size|^ +[0-9]|unavailable|wrong bytes|FAILED|^gpucomm:" $R/a2a-$name.log | cut -c1-240 | head -16; }
step "alltoall: every backend, 16K..1G per rank, -n 20 -w 5"
a2a all 300 --backends all -b 16K -e 1G -f 4 -n 20 -w 5
step "alltoall: 4 KiB per peer ($((4096 * N)) B per rank), -n 1000 -w 100, host and events timing"
a2a lat 150 --backends all -b $((4096 * N)) -e $((4096 * N)) -n 1000 -w 100
a2a lat-ev 150 --backends nccl,nvshmem-direct,nvshmem-signal,nvshmem-host-graph -b $((4096 * N)) -e $((4096 * N)) -n 1000 -w 100 --timing events
step "own kernels: blocks and threads variants (1M, 16M, 256M per rank)"
for v in "--blocks 16" "--blocks 64" "--blocks 256" "--threads 1024" "--threads 256 --blocks 256"; do
  a2a "var${v// /}" 90 --backends nvshmem-put,nvshmem-signal,nvshmem-direct -b 1M -e 256M -f 16 -n 20 -w 5 $v
done
step "chunk-size sweep of nvshmem-signal (64K, 1M, 16M, 256M per rank)"
a2a chunks 150 -b 64K -e 256M -f 16 -n 20 -w 5 --chunks 4K,16K,64K,256K,1M,4M,16M
step "NVSHMEM barrier latency"
timeout 90 $G nvshmem barrier --np $N -n 10000 -w 100 --results $R/barrier.jsonl > $R/barrier.log 2>&1; echo "[barrier] rc=$?"
grep -vE "^\[rank" $R/barrier.log | tail -5
step "PyTorch all_to_all_single (checked), same sizes"
timeout 200 python3 -m torch.distributed.run --nproc_per_node $N bench/torch_peer.py --collectives alltoall --check \
  --sizes $((4096 * N)):$((1 << 30)):4 --iters 20 --warmup 5 --out $R/a2a-torch.jsonl > $R/a2a-torch.log 2>&1; echo "[torch] rc=$?"
timeout 200 python3 -m torch.distributed.run --nproc_per_node $N bench/torch_peer.py --collectives alltoall \
  --sizes $((4096 * N)):$((4096 * N)):2 --iters 1000 --warmup 100 --out $R/a2a-torch.jsonl >> $R/a2a-torch.log 2>&1; echo "[torch latency] rc=$?"
grep -E "Error|error" $R/a2a-torch.log | tail -3
step "per size: best gpucomm backend vs PyTorch (busbw GB/s, time us; last row per size/backend wins)"
python3 - $A $R/a2a-torch.jsonl <<'PY'
import json, sys
best, torch, wrong = {}, {}, {}
for path in sys.argv[1:]:
    try: rows = [json.loads(l) for l in open(path) if l.strip()]
    except FileNotFoundError: continue
    for r in rows:
        if r.get("type") != "result" or r.get("benchmark") != "alltoall" or r.get("chunk_bytes"): continue
        s = r["size_bytes"]
        if r.get("wrong"): wrong[r["backend"]] = wrong.get(r["backend"], 0) + r["wrong"]
        if r["backend"] == "torch": torch[s] = r; continue
        if r.get("timing") != "host" or r.get("wrong"): continue
        k = (s, r["backend"]); best[k] = r
sizes = sorted({s for s, _ in best} | set(torch))
print(f"{'size':>11} {'best backend':>20} {'busbw':>7} {'time':>9} | {'nccl':>7} {'time':>9} | {'torch':>7} {'time':>9}")
for s in sizes:
    cands = [r for (z, b), r in best.items() if z == s]
    b = max(cands, key=lambda r: r["busbw_gbps"], default=None)
    f = min(cands, key=lambda r: r["time_us"], default=None)
    n = best.get((s, "nccl")); t = torch.get(s)
    c = lambda r, k: f"{r[k]:.2f}" if r else "-"
    print(f"{s:>11} {(b['backend'] if b else '-'):>20} {c(b,'busbw_gbps'):>7} {c(b,'time_us'):>9} | {c(n,'busbw_gbps'):>7} {c(n,'time_us'):>9} | {c(t,'busbw_gbps'):>7} {c(t,'time_us'):>9}  fastest: {f['backend'] if f else '-'} {c(f,'time_us')}")
print("wrong (rows with wrong > 0, summed):", wrong or "none")
PY
