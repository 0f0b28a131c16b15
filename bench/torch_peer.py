"""PyTorch's NCCL as the peer gpucomm is compared against (torch.distributed, one process per GPU).

Same sizes and byte accounting as nccl-tests / gpucomm: size = bytes of the per-rank buffer as
nccl-tests' size column; algbw = size / time; busbw = algbw * factor (all_reduce 2(n-1)/n,
all_gather / reduce_scatter / alltoall (n-1)/n). Timing as nccl-tests' host method: synchronize,
barrier, host clock around `iters` back-to-back calls, synchronize; time averaged over ranks.
Rows are written as gpucomm results (JSON Lines, backend "torch").

  python3 -m torch.distributed.run --nproc_per_node 4 bench/torch_peer.py --out torch.jsonl
"""
import argparse, datetime, json, os, socket, time

import torch
import torch.distributed as dist


def sizes(lo, hi, f):
    s = lo
    while s <= hi:
        yield s
        s *= f


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="16:1073741824:2", help="min:max:factor in bytes")
    ap.add_argument("--iters", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--collectives", default="all_reduce,all_gather,reduce_scatter,alltoall")
    ap.add_argument("--out", required=True)
    ap.add_argument("--check", action="store_true", help="alltoall: check one all_to_all_single per size first, write the wrong count")
    a = ap.parse_args()

    rank, world, local = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_RANK"])
    torch.cuda.set_device(local)
    dist.init_process_group("nccl", device_id=torch.device("cuda", local))
    n = world
    run_id = "torch-" + datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = open(a.out, "a") if rank == 0 else None
    if out:
        nv = torch.cuda.nccl.version()
        out.write(json.dumps({"type": "run", "run": run_id, "schema": 1, "tool": "torch.distributed",
                              "tool_version": torch.__version__, "nccl": ".".join(map(str, nv)) if isinstance(nv, tuple) else str(nv),
                              "host": socket.gethostname(), "time": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                              "launcher": "torchrun", "gpus": [{"index": i, "name": torch.cuda.get_device_name(i)} for i in range(torch.cuda.device_count())],
                              "environment": {k: v for k, v in os.environ.items() if k.startswith(("NCCL_", "TORCH_"))}}, sort_keys=True) + "\n")

    factor = {"all_reduce": 2 * (n - 1) / n, "all_gather": (n - 1) / n, "reduce_scatter": (n - 1) / n, "alltoall": (n - 1) / n}
    for coll in a.collectives.split(","):
        lo, hi, f = map(int, a.sizes.split(":"))
        for size in sizes(lo, hi, f):
            count = size // 4
            if coll != "all_reduce" and count % n:
                continue
            if coll == "all_reduce":
                x = torch.ones(count, device="cuda")
                op = lambda: dist.all_reduce(x)
            elif coll == "all_gather":
                inp, outp = torch.ones(count // n, device="cuda"), torch.empty(count, device="cuda")
                op = lambda: dist.all_gather_into_tensor(outp, inp)
            elif coll == "reduce_scatter":
                inp, outp = torch.ones(count, device="cuda"), torch.empty(count // n, device="cuda")
                op = lambda: dist.reduce_scatter_tensor(outp, inp)
            else:
                inp, outp = torch.ones(count, device="cuda"), torch.empty(count, device="cuda")
                op = lambda: dist.all_to_all_single(outp, inp)
            wrong = None
            if coll == "alltoall" and a.check:
                # Block q of rank r's input holds r*n+q; block p of rank r's output must hold p*n+r (exact in float).
                inp.view(n, -1).copy_((torch.arange(n, device="cuda", dtype=torch.float32) + rank * n)[:, None].expand(n, count // n))
                outp.fill_(-1)
                op()
                torch.cuda.synchronize()
                want = (torch.arange(n, device="cuda", dtype=torch.float32) * n + rank)[:, None]
                bad = torch.tensor([(outp.view(n, -1) != want).sum().item()], device="cuda", dtype=torch.float64)
                dist.all_reduce(bad)
                wrong = int(bad.item())
            for _ in range(a.warmup):
                op()
            torch.cuda.synchronize()
            dist.barrier()
            t0 = time.perf_counter()
            for _ in range(a.iters):
                op()
            torch.cuda.synchronize()
            us = (time.perf_counter() - t0) * 1e6 / a.iters
            t = torch.tensor([us], device="cuda", dtype=torch.float64)
            dist.all_reduce(t)
            us = t.item() / n
            if out:
                alg = size / 1e3 / us
                out.write(json.dumps({"type": "result", "run": run_id, "benchmark": coll, "backend": "torch", "variant": "out_of_place",
                                      "dtype": "float", "size_bytes": size, "count": count, "ranks": n, "timing": "host",
                                      "iterations": a.iters, "time_us": us, "algbw_gbps": alg, "busbw_gbps": alg * factor[coll],
                                      **({"wrong": wrong} if wrong is not None else {})},
                                     sort_keys=True) + "\n")
                out.flush()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
