#!/usr/bin/env python3
"""Summary of bench/steps/top.sh: overhead per strategy (from `top --self-cost`), the 30 s crash
check, and field values vs GPM during the all-to-all.

usage: bench/top/summary.py DIR   (DIR = $R/top of the step)
"""
import glob, gzip, json, os, sys

d = sys.argv[1]
print("overhead (% of one core; steady = after the first sample; start-up = process start to end of first sample)")
print(f"{'method':7} {'view':6} {'Hz':>3} {'rc':>3} {'steady%':>8} {'total%':>7} {'ms/sample':>9} {'sys share':>9} {'startup ms':>10}  target")
for method in ("fields", "gpm"):
    for view in ("sums", "links"):
        for iv, hz, target in (("1s", 1, 1.0), ("100ms", 10, 5.0)):
            base = f"{d}/cost-{method}-{view}-{iv}"
            rc = open(base + ".rc").read().strip() if os.path.exists(base + ".rc") else "-"
            lines = open(base + ".err").read().splitlines() if os.path.exists(base + ".err") else []
            cost = next((json.loads(l)["self_cost"] for l in reversed(lines) if l.startswith('{"self_cost"')), None)
            if cost is None:
                why = next((l for l in lines if l.strip()), "no self_cost line")[:90]
                print(f"{method:7} {view:6} {hz:>3} {rc:>3}  {why}")
                continue
            cpu = cost["steady_user_s"] + cost["steady_sys_s"]
            share = cost["steady_sys_s"] / cpu if cpu > 0 else 0
            ok = "ok" if cost["steady_pct_core"] <= target else f"OVER {target:g}%"
            print(f"{method:7} {view:6} {hz:>3} {rc:>3} {cost['steady_pct_core']:8.2f} {cost['total_pct_core']:7.2f} "
                  f"{cost['cpu_ms_per_sample']:9.2f} {share:9.2f} {1000 * cost['startup_cpu_s']:10.1f}  {ok}")

rc = open(f"{d}/cost-fields-links-100ms.rc").read().strip() if os.path.exists(f"{d}/cost-fields-links-100ms.rc") else "-"
err = open(f"{d}/cost-fields-links-100ms.err").read() if os.path.exists(f"{d}/cost-fields-links-100ms.err") else ""
print(f"\n30 s at 10 Hz --links: rc {rc}: " + ("no crash" if rc == "0" and '"self_cost"' in err else "FAILED; stderr tail:"))
if not (rc == "0" and '"self_cost"' in err):
    print("\n".join(err.splitlines()[-25:]))

def peaks(path):
    """GPU name -> (max total tx GB/s, max total rx GB/s) over the capture."""
    out = {}
    opener = gzip.open if path.endswith(".gz") else open
    try:
        for line in opener(path, "rt"):
            s = json.loads(line)
            for dev in s["devices"]:
                if dev["kind"] == "gpu":
                    tx, rx = dev.get("tx_Bps", 0) / 1e9, dev.get("rx_Bps", 0) / 1e9
                    a, b = out.get(dev["name"], (0, 0))
                    out[dev["name"]] = (max(a, tx), max(b, rx))
    except (OSError, ValueError) as e:
        print(f"{path}: {e}")
    return out

f = peaks(next(iter(glob.glob(f"{d}/links-fields.jsonl*")), ""))
g = peaks(next(iter(glob.glob(f"{d}/links-gpm.jsonl*")), ""))
print("\npeak per-GPU NVLink rate during the all-to-all, GB/s (fields vs gpm; 1 GB = 1e9 B)")
for name in sorted(set(f) | set(g)):
    ft, fr = f.get(name, (0, 0)); gt, gr = g.get(name, (0, 0))
    ratio = f"{gt / ft:.3f}" if ft > 0 else "-"
    print(f"{name}: fields tx {ft:7.1f} rx {fr:7.1f} | gpm tx {gt:7.1f} rx {gr:7.1f} | gpm/fields tx {ratio}")
