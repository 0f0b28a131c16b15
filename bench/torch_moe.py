"""PyTorch's all_to_all_single as the peer of `gpucomm moe`: the same shapes, routing, rows and byte
accounting (docs/moe.md), one process per GPU.

The routing and every convention's bytes come from `gpucomm moe --dump FILE --ranks N` (gpucomm's
own numbers: the accounting lives in one place, Sources/MoE/Traffic.swift). The dump holds one
routing per rank (group-limited or not; `--dump` refuses `--routings` > 1), so the layout is
exchanged once and reused, as `gpucomm moe --routings 1`. Per shape:
  layout    all_to_all_single of the per-peer row counts (the layout exchange; timed alone).
  dispatch  this rank's valid (token, expert) rows, ordered by (expert, token), gathered into one
            buffer (FP8: cast to e4m3 with per-128-element fp32 scales first, inside the timed op),
            then all_to_all_single with the exchanged split sizes.
  combine   the fake expert f(x) = bf16(1.5 x) (untimed), all_to_all_single back, and the weighted
            sum Σ w_k f(x) per token (index_add_ in fp32, cast to bf16).
Every received row and every combined element is checked (the values are gpucomm's: source rank and
token index exact in BF16); wrong elements are written in the rows and make the exit status 3.
Timing as bench/torch_peer.py: host clock around `iters` back-to-back operations after a barrier,
mean over ranks. Rows are gpucomm results (JSON Lines, backend "torch", benchmark moe_<op>, the
conventions' bytes and GB/s in metrics).

  gpucomm moe --dump moe.jsonl --ranks 4 --preset deepep-ll
  python3 -m torch.distributed.run --nproc_per_node 4 bench/torch_moe.py --dump moe.jsonl --out torch-moe.jsonl
  (--device cpu runs it over gloo, for checking the script without a GPU)
"""
import argparse, datetime, json, os, socket, sys, time

import torch
import torch.distributed as dist

M32 = 0xFFFFFFFF


def mix(x):  # Payload.mix (murmur3's finaliser) on int64 tensors holding 32-bit values
    x = x ^ (x >> 16); x = (x * 0x85EBCA6B) & M32
    x = x ^ (x >> 13); x = (x * 0xC2B2AE35) & M32
    return x ^ (x >> 16)


def values(s, tokens, hidden, device):
    """Payload.value for rank s: float32 [len(tokens), hidden]."""
    t = tokens.to(torch.int64)[:, None]
    h = torch.arange(hidden, device=device, dtype=torch.int64)[None, :]
    r = mix(((s * 0x9E3779B1) & M32) ^ mix(((t * 0x85EBCA77) & M32) ^ mix(h)))
    v = ((r % 17) - 8).to(torch.float32) * 0.5
    if hidden >= 3 and len(tokens):
        v[:, 0] = float(s)
        v[:, 1] = (t[:, 0] >> 8).to(torch.float32)
        v[:, 2] = (t[:, 0] & 255).to(torch.float32)
    return v


def cast_fp8(x):
    """e4m3 with one fp32 scale per 128 elements (amax clamped to 1e-4, as gpucomm and DeepEP): uint8 rows of hidden + hidden/32."""
    n, h = x.shape
    b = x.float().view(n, h // 128, 128)
    amax = b.abs().amax(dim=2, keepdim=True).clamp(min=1e-4)
    q = (b * (448.0 / amax)).to(torch.float8_e4m3fn).view(torch.uint8).view(n, h)
    return torch.cat([q, (amax / 448.0).view(n, h // 128).contiguous().view(torch.uint8)], dim=1)


def uncast_fp8(rows, h):
    q = rows[:, :h].contiguous().view(torch.float8_e4m3fn).float().view(-1, h // 128, 128)
    scale = rows[:, h:].contiguous().view(torch.float32).view(-1, h // 128, 1)
    return (q * scale).view(-1, h), scale.expand(-1, h // 128, 128).reshape(-1, h)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", required=True, help="gpucomm moe --dump output (same --ranks as this job)")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--out", required=True)
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    a = ap.parse_args()

    rank, world, local = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_RANK"])
    if a.device == "cuda":
        torch.cuda.set_device(local)
        dist.init_process_group("nccl", device_id=torch.device("cuda", local))
        dev = torch.device("cuda", local)
        sync = torch.cuda.synchronize
    else:
        dist.init_process_group("gloo")
        dev = torch.device("cpu")
        sync = lambda: None
    run_id = "torch-moe-" + datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = open(a.out, "a") if rank == 0 else None
    if out:
        out.write(json.dumps({"type": "run", "run": run_id, "schema": 1, "tool": "torch.distributed", "tool_version": torch.__version__,
                              "host": socket.gethostname(), "time": datetime.datetime.now(datetime.timezone.utc).isoformat(), "launcher": "torchrun",
                              "environment": {k: v for k, v in os.environ.items() if k.startswith(("NCCL_", "TORCH_"))}}, sort_keys=True) + "\n")
    total_wrong = 0
    for line in open(a.dump):
        d = json.loads(line)
        sh, n = d["shape"], d["ranks"]
        if n != world:
            sys.exit(f"torch_moe.py: {a.dump} was routed for {n} ranks; this job has {world} (gpucomm moe --dump FILE --ranks {world})")
        T, H, K, E, fp8 = sh["tokens"], sh["hidden"], sh["topk"], sh["experts"], sh["dtype"] == "fp8"
        L = E // n

        def selections(s):
            """Rank s's valid selections ordered by (expert, token): (tokens, experts, weights)."""
            r = d["routing"][s]
            e = torch.tensor(r["experts"], dtype=torch.int64).view(-1, K)
            w = torch.tensor(r["weights"], dtype=torch.float32).view(-1, K)
            t, k = (e >= 0).nonzero(as_tuple=True)
            ex = e[t, k]
            order = torch.argsort(ex * max(1, r["tokens"]) + t, stable=True)
            return t[order], ex[order], w[t, k][order]

        tok, exp, wts = (v.to(dev) for v in selections(rank))
        owner = exp // L
        send_counts = torch.bincount(owner, minlength=n).to(torch.int64)
        x = values(rank, torch.arange(T, device=dev), H, dev).to(torch.bfloat16) if d["routing"][rank]["tokens"] else torch.zeros(0, H, dtype=torch.bfloat16, device=dev)
        width = H + H // 32 if fp8 else H
        rowtype = torch.uint8 if fp8 else torch.bfloat16
        recv_counts = torch.empty(n, dtype=torch.int64, device=dev)

        def layout():
            dist.all_to_all_single(recv_counts, send_counts)

        layout()
        sync()
        rc = recv_counts.tolist()
        sc = send_counts.tolist()
        recv = torch.empty(sum(rc), width, dtype=rowtype, device=dev)
        back = torch.empty(len(tok), H, dtype=torch.bfloat16, device=dev)

        def dispatch():
            rows = x.index_select(0, tok)
            dist.all_to_all_single(recv, cast_fp8(rows) if fp8 else rows, output_split_sizes=rc, input_split_sizes=sc)

        dispatch()
        sync()
        # Check every received row: from source s, its selections to this rank's experts, in (expert, token) order.
        wrong = 0
        got = uncast_fp8(recv, H)[0] if fp8 else recv.float()
        at = 0
        for s in range(n):
            st, se, _ = selections(s)
            mine = (se // L) == rank
            want = values(s, st[mine].to(dev), H, dev)
            g = got[at:at + len(want)]
            if fp8:
                scale = want.view(-1, H // 128, 128).abs().amax(dim=2, keepdim=True).clamp(min=1e-4).div(448.0).expand(-1, H // 128, 128).reshape(-1, H)
                wrong += int(((g - want).abs() > want.abs() / 16 + scale / 1024 + 1e-30).sum())
            else:
                wrong += int((g != want).sum())
            at += len(want)
        y = ((uncast_fp8(recv, H)[0] if fp8 else recv.float()) * 1.5).to(torch.bfloat16)  # the fake expert, untimed
        result = torch.empty(T, H, dtype=torch.bfloat16, device=dev)

        def combine():
            dist.all_to_all_single(back, y, output_split_sizes=sc, input_split_sizes=rc)
            acc = torch.zeros(T, H, dtype=torch.float32, device=dev)
            acc.index_add_(0, tok, back.float() * wts[:, None])
            result.copy_(acc)

        result.fill_(float("nan"))
        combine()
        sync()
        if T and d["routing"][rank]["tokens"]:
            xs = values(rank, torch.arange(T, device=dev), H, dev)
            sw = torch.zeros(T, device=dev).index_add_(0, tok, wts)
            aw = torch.zeros(T, device=dev).index_add_(0, tok, wts.abs())
            want = sw[:, None] * 1.5 * xs
            tol = aw[:, None] * 1.5 * xs.abs() * 2.0 ** -7 + 1e-6
            if fp8:
                scale = xs.view(T, H // 128, 128).abs().amax(dim=2, keepdim=True).clamp(min=1e-4).div(448.0).expand(-1, H // 128, 128).reshape(T, H)
                tol = tol + aw[:, None] * 1.5 * (xs.abs() / 16 + scale / 1024) * 1.02
            wrong += int(((result.float() - want).abs() > tol).sum() + torch.isnan(result.float()).sum())
        w = torch.tensor([wrong], dtype=torch.float64, device=dev)
        dist.all_reduce(w)
        wrong = int(w.item())
        total_wrong += wrong

        for op_name, op in (("layout", layout), ("dispatch", dispatch), ("combine", combine)):
            for _ in range(a.warmup):
                op()
            sync()
            dist.barrier()
            t0 = time.perf_counter()
            for _ in range(a.iters):
                op()
            sync()
            us = (time.perf_counter() - t0) * 1e6 / a.iters
            t = torch.tensor([us], dtype=torch.float64, device=dev)
            dist.all_reduce(t)
            us = t.item() / n
            if out:
                metrics = {}
                if op_name != "layout":
                    for c, b in d["bytes"].items():
                        metrics["bytes_" + c] = b[op_name]
                        metrics["gbps_" + c] = b[op_name] / 1e3 / us
                row = {"type": "result", "run": run_id, "benchmark": "moe_" + op_name, "backend": "torch", "ranks": n, "count": T,
                       "dtype": "bf16" if op_name == "combine" or not fp8 else "fp8", "timing": "host", "iterations": a.iters, "time_us": us,
                       "wrong": wrong, "labels": {"tokens": str(T), "hidden": str(H), "topk": str(K), "experts": str(E), "masked": str(sh["masked"]),
                                                  "zero_ranks": str(sh["zero_ranks"]), "skew": str(float(sh.get("skew", 1.0))),
                                                  "dispatch_dtype": sh["dtype"], "groups": str(sh.get("groups", 1)),
                                                  "group_topk": str(sh.get("group_topk", 1)), "routings": "1"}}
                if metrics:
                    row["metrics"] = metrics
                    row["size_bytes"] = int(d["bytes"]["wire"][op_name])
                    row["algbw_gbps"] = metrics["gbps_wire"]
                out.write(json.dumps(row, sort_keys=True) + "\n")
                out.flush()
                gb = "  ".join(f"{c} {metrics['gbps_' + c]:.2f}" for c in d["bytes"]) if metrics else ""
                print(f"torch {T:>5} tok h{H} top-{K} e{E} {sh['dtype']:>4} {op_name:>8} {us:10.2f} us  {gb}  wrong {wrong}", flush=True)
    dist.destroy_process_group()
    if total_wrong:
        sys.exit(3)


if __name__ == "__main__":
    main()
