"""Per collective and size: gpucomm's busbw / time against the PyTorch peer's, from two results files.

  python3 bench/compare_peer.py gpucomm.jsonl torch.jsonl [--min-bytes 33554432]
Prints a table and exits 1 if gpucomm's busbw is below 0.99x the peer at any size >= --min-bytes.
"""
import json, sys

MEDIAN = "--median" in sys.argv

def rows(path, backend):
    """Rows by (benchmark, size); with --median, repeated runs become their median time."""
    out, reps = {}, {}
    for line in open(path):
        r = json.loads(line)
        if r.get("type") == "result" and r.get("backend") == backend and r.get("variant", "out_of_place") == "out_of_place" \
           and r.get("dtype", "float") == "float" and r.get("op") in (None, "sum"):
            k = (r["benchmark"], r["size_bytes"])
            reps.setdefault(k, []).append(r)
            out[k] = r
    if MEDIAN:
        for k, rs in reps.items():
            rs = sorted(rs, key=lambda r: r["time_us"])
            m = dict(rs[len(rs) // 2])
            m["spread"] = f'{rs[0]["busbw_gbps"]:.1f}-{rs[-1]["busbw_gbps"]:.1f}' if len(rs) > 1 else ""
            out[k] = m
    return out

g, t = rows(sys.argv[1], "nccl"), rows(sys.argv[2], "torch")
lim = int(sys.argv[sys.argv.index("--min-bytes") + 1]) if "--min-bytes" in sys.argv else 32 << 20
if MEDIAN:
    print("median of repeated runs (busbw spread min-max in GB/s at the end of each line)")
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
    extra = f"   gpucomm {a.get('spread', '')}  torch {b.get('spread', '')}" if MEDIAN else ""
    print(f"{k[0]:15} {k[1]:12d} {a['time_us']:11.2f} {b['time_us']:10.2f} {a['busbw_gbps']:14.2f} {b['busbw_gbps']:12.2f} {ratio:7.3f}{flag}{extra}")
print(f"sizes >= {lim} B below 0.99x the peer: {bad}")
sys.exit(1 if bad else 0)
