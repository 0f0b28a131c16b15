"""Per collective and size: gpucomm's busbw / time against the PyTorch peer's, from two results files.

  python3 bench/compare_peer.py gpucomm.jsonl torch.jsonl [--min-bytes 33554432]
Prints a table and exits 1 if gpucomm's busbw is below 0.99x the peer at any size >= --min-bytes.
"""
import json, sys

def rows(path, backend):
    out = {}
    for line in open(path):
        r = json.loads(line)
        if r.get("type") == "result" and r.get("backend") == backend and r.get("variant", "out_of_place") == "out_of_place" \
           and r.get("dtype", "float") == "float" and r.get("op") in (None, "sum"):
            out[(r["benchmark"], r["size_bytes"])] = r
    return out

g, t = rows(sys.argv[1], "nccl"), rows(sys.argv[2], "torch")
lim = int(sys.argv[sys.argv.index("--min-bytes") + 1]) if "--min-bytes" in sys.argv else 32 << 20
bad = 0
print(f"{'collective':15} {'size':>12} {'gpucomm us':>11} {'torch us':>10} {'gpucomm busbw':>14} {'torch busbw':>12} {'ratio':>7}")
for k in sorted(g, key=lambda k: (k[0], k[1])):
    if k not in t:
        continue
    a, b = g[k], t[k]
    ratio = a["busbw_gbps"] / b["busbw_gbps"] if b["busbw_gbps"] > 0 else float("nan")
    flag = ""
    if k[1] >= lim and ratio < 0.99:
        flag, bad = "  < 0.99", bad + 1
    print(f"{k[0]:15} {k[1]:12d} {a['time_us']:11.2f} {b['time_us']:10.2f} {a['busbw_gbps']:14.2f} {b['busbw_gbps']:12.2f} {ratio:7.3f}{flag}")
print(f"sizes >= {lim} B below 0.99x the peer: {bad}")
sys.exit(1 if bad else 0)
