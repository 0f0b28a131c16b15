#!/usr/bin/env python3
"""Checks a `gpucomm top --json` capture: did every GPU's NVLinks all carry traffic at once?

usage: bench/top/check_links.py CAPTURE.jsonl [--min-gbps 1] [--links 18]
Prints, per GPU, the sample with the most links moving (tx and rx both above --min-gbps GB/s)
and the per-link tx/rx range and imbalance then; exits 1 unless every GPU had --links links moving.
"""
import argparse, json, sys

p = argparse.ArgumentParser()
p.add_argument("capture")
p.add_argument("--min-gbps", type=float, default=1.0)
p.add_argument("--links", type=int, default=18)
a = p.parse_args()
best = {}
for line in open(a.capture):
    s = json.loads(line)
    for d in s["devices"]:
        if d["kind"] != "gpu":
            continue
        tx = [pt["rates"].get("tx_bytes", 0) / 1e9 for pt in d["ports"]]
        rx = [pt["rates"].get("rx_bytes", 0) / 1e9 for pt in d["ports"]]
        moving = sum(1 for t, r in zip(tx, rx) if t >= a.min_gbps and r >= a.min_gbps)
        imb = next((i for i in s["imbalance"] if i["group"] == d["name"]), {})
        row = (moving, sum(tx), s["time"], len(d["ports"]), min(tx), max(tx), min(rx), max(rx), imb.get("tx"), imb.get("rx"))
        if d["name"] not in best or row[:2] > best[d["name"]][:2]:
            best[d["name"]] = row
ok = bool(best)
for gpu, (moving, total, t, nports, txmin, txmax, rxmin, rxmax, itx, irx) in sorted(best.items()):
    print(f"{gpu}: {moving}/{nports} links moving at {t}; total tx {total:.1f} GB/s; per link tx {txmin:.2f}-{txmax:.2f}, "
          f"rx {rxmin:.2f}-{rxmax:.2f} GB/s; imbalance tx {itx} rx {irx}")
    ok = ok and moving >= a.links
print("PASS: every GPU had all links moving" if ok else "FAIL")
sys.exit(0 if ok else 1)
