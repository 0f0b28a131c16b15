"""PyTorch's copy_ between pinned host memory and the GPU, as the peer of `gpucomm copy`.

Same sizes, byte accounting and clock as gpucomm's host timing: one copy checked first (the
destination poisoned, the source filled, copy, count wrong bytes), `warmup` untimed copies,
synchronize, host clock around `iters` back-to-back `dst.copy_(src, non_blocking=True)`,
synchronize; time per copy = interval / iters; algbw = size / time (GB/s = 1e9 B/s). The
bidirectional test runs a host-to-device and a device-to-host copy of `size` on two streams at
once (algbw per direction, busbw both), as gpucomm's host_device_bidirectional_memcpy_ce.
Rows are gpucomm results (JSON Lines, backend "torch", benchmark = gpucomm's key).

  python3 bench/torch_copy.py --sizes 4096:1073741824:2 --out torch-copy.jsonl
  python3 bench/torch_copy.py --compare gpucomm-copy.jsonl torch-copy.jsonl --min-bytes 64M
"""
import argparse, datetime, json, sys, time


def sizes(spec):
    lo, hi, f = (int(x) for x in spec.split(":"))
    s = lo
    while s <= hi:
        yield s
        s *= f


def parse_size(t):
    m = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(t[:-1]) * m[t[-1]] if t[-1] in m else int(t)


def measure(a, out, run_id):
    import torch
    dev = torch.device("cuda", 0)
    top = max(sizes(a.sizes))
    host_src = torch.empty(top, dtype=torch.uint8, pin_memory=True)
    host_dst = torch.empty(top, dtype=torch.uint8, pin_memory=True)
    dev_src = torch.empty(top, dtype=torch.uint8, device=dev)
    dev_dst = torch.empty(top, dtype=torch.uint8, device=dev)
    s1, s2 = torch.cuda.Stream(), torch.cuda.Stream()
    pattern = torch.randint(0, 255, (top,), dtype=torch.uint8)  # 0..254: never the 0xFF poison
    host_src.copy_(pattern)
    dev_src.copy_(pattern.to(dev))
    torch.cuda.synchronize()
    print("# torch %s  cuda %s  %s  host clock, -n %d -w %d" % (torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0), a.iters, a.warmup))
    print("#  test                                   size      time(us)  algbw(GB/s)  #wrong")
    tests = {
        "host_to_device_memcpy_ce": [(dev_dst, host_src, None)],
        "device_to_host_memcpy_ce": [(host_dst, dev_src, None)],
        "host_device_bidirectional_memcpy_ce": [(dev_dst, host_src, s1), (host_dst, dev_src, s2)],
    }
    for key, pairs in tests.items():
        for n in sizes(a.sizes):
            views = [(d[:n], s[:n], st) for d, s, st in pairs]

            def once():
                if len(views) == 1:
                    d, s, _ = views[0]
                    d.copy_(s, non_blocking=True)
                    return
                cur = torch.cuda.current_stream()
                for d, s, st in views:
                    st.wait_stream(cur)
                    with torch.cuda.stream(st):
                        d.copy_(s, non_blocking=True)
                for _, _, st in views:
                    cur.wait_stream(st)

            for d, _, _ in views:
                d.fill_(255)
            torch.cuda.synchronize()
            once()
            torch.cuda.synchronize()
            wrong = sum(int((d.cpu() if d.is_cuda else d).ne(pattern[:n]).sum()) for d, _, _ in views)
            for _ in range(a.warmup):
                once()
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            for _ in range(a.iters):
                once()
            torch.cuda.synchronize()
            us = (time.perf_counter() - t0) / a.iters * 1e6
            alg = n / us / 1e3
            bus = alg * len(views)
            print("   %-38s %10d %12.2f %12.2f %7d" % (key, n, us, alg, wrong))
            out.write(json.dumps({"type": "result", "run": run_id, "benchmark": key, "backend": "torch", "variant": "pinned",
                                  "size_bytes": n, "ranks": 1, "timing": "host", "iterations": a.iters, "time_us": us,
                                  "algbw_gbps": alg, "busbw_gbps": bus, "wrong": wrong}) + "\n")
            out.flush()


def rows(path, backend):
    out = {}
    for line in open(path):
        r = json.loads(line)
        if r.get("type") != "result" or r.get("variant") != "pinned" or r.get("algbw_gbps") is None:
            continue
        b = r["backend"]
        if backend == "torch" and b != "torch":
            continue
        if backend == "gpucomm" and b == "torch":
            continue
        out[(r["benchmark"], b, r["size_bytes"])] = r
    return out


def compare(a):
    g, t = rows(a.compare[0], "gpucomm"), rows(a.compare[1], "torch")
    lo = parse_size(a.min_bytes)
    print("# gpucomm copy / torch copy_ (pinned host memory), algbw ratio; goal >= 0.99 at >= %d B" % lo)
    print("#  test                                   engine          size   gpucomm    torch   ratio")
    worst = {}
    for (key, backend, n), r in sorted(g.items(), key=lambda x: (x[0][0], x[0][1], x[0][2])):
        base = key[:-3] + "_ce" if key.endswith("_sm") else key
        p = t.get((base, "torch", n))
        if p is None:
            continue
        ratio = r["algbw_gbps"] / p["algbw_gbps"]
        mark = "" if n < lo or ratio >= 0.99 else "  below"
        print("   %-38s %-12s %10d %9.2f %8.2f %7.3f%s" % (key, backend, n, r["algbw_gbps"], p["algbw_gbps"], ratio, mark))
        if n >= lo:
            worst[key] = min(worst.get(key, 9e9), ratio)
    print("# at >= %d B, the lowest ratio per test:" % lo)
    for k, v in sorted(worst.items()):
        print("   %-38s %.3f %s" % (k, v, "ok" if v >= 0.99 else "BELOW 0.99"))
    return 0 if worst and all(v >= 0.99 for k, v in worst.items() if k.endswith("_ce")) else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="4096:1073741824:2", help="min:max:factor in bytes")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--out")
    ap.add_argument("--compare", nargs=2, metavar=("GPUCOMM_JSONL", "TORCH_JSONL"))
    ap.add_argument("--min-bytes", default="64M")
    a = ap.parse_args()
    if a.compare:
        sys.exit(compare(a))
    if not a.out:
        ap.error("--out is required to measure")
    run_id = "torch-copy-" + datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    with open(a.out, "a") as out:
        measure(a, out, run_id)


if __name__ == "__main__":
    main()
