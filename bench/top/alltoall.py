#!/usr/bin/env python3
"""Keeps NVLink busy with NCCL all-to-all for a while, so `gpucomm top` has something to show.

torchrun --standalone --nproc_per_node 4 bench/top/alltoall.py --seconds 30 --mib 1024
(Set NCCL_NVLS_ENABLE=0 and TORCH_SYMM_MEM_DISABLE_MULTICAST=1: multicast stays off.)
"""
import argparse, os, time
import torch
import torch.distributed as dist

p = argparse.ArgumentParser()
p.add_argument("--seconds", type=float, default=30)
p.add_argument("--mib", type=int, default=1024, help="bytes per rank per all-to-all, MiB")
a = p.parse_args()
os.environ.setdefault("NCCL_NVLS_ENABLE", "0")
rank = int(os.environ["LOCAL_RANK"])
torch.cuda.set_device(rank)
dist.init_process_group("nccl")
n = a.mib * 1024 * 1024 // 4
src = torch.ones(n, dtype=torch.float32, device="cuda")
dst = torch.empty_like(src)
dist.all_to_all_single(dst, src)
torch.cuda.synchronize()
t0, iters = time.time(), 0
while time.time() - t0 < a.seconds:
    for _ in range(10):
        dist.all_to_all_single(dst, src)
    torch.cuda.synchronize()
    iters += 10
dt = time.time() - t0
if rank == 0:
    w = dist.get_world_size()
    busbw = a.mib * 2**20 * (w - 1) / w * iters / dt / 1e9
    print(f"all_to_all_single {a.mib} MiB/rank x {iters} in {dt:.1f} s: busbw {busbw:.1f} GB/s", flush=True)
dist.destroy_process_group()
