#!/usr/bin/env python3
"""Writes N gpucomm result records (JSON Lines) for the report benchmark.

A sweep like `gpucomm nccl` writes: 5 collectives x 2 backends x 5 GPU counts x 2 variants x
20 sizes (1 KiB .. 512 MiB) = 2,000 rows per run, repeated over as many runs as it takes to
reach N rows, each run with its `run` line. Deterministic (seeded), so every machine times the
same input. Usage: make_records.py N OUT.jsonl
"""
import json
import random
import sys

def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    rng = random.Random(1)
    benches = [("all_reduce", 2.0), ("all_gather", 1.0), ("reduce_scatter", 1.0), ("alltoall", 1.0), ("broadcast", 1.0)]
    backends = ["nccl", "nccl_device"]
    written = 0
    run_no = 0
    with open(out, "w") as f:
        while written < n:
            run_no += 1
            run = f"bench-{run_no:05d}"
            f.write(json.dumps({"type": "run", "run": run, "schema": 1, "tool": "gpucomm", "tool_version": "0.1.0",
                                "host": f"node{run_no % 4}", "time": "2026-11-21T12:00:00Z", "nccl": "2.28.9",
                                "topology": {"nvlink_peak_gbps": 450.0, "nvlinks_per_gpu": 18}}, sort_keys=True) + "\n")
            for bench, factor in benches:
                for backend in backends:
                    for ranks in (2, 4, 8, 16, 32):
                        for variant in ("out_of_place", "in_place"):
                            for e in range(10, 30):
                                if written >= n:
                                    break
                                size = 1 << e
                                bus = 400.0 * size / (size + 8e6) * (1 + rng.uniform(-0.03, 0.03))
                                bus_factor = factor * (ranks - 1) / ranks if factor > 1 else (ranks - 1) / ranks
                                alg = bus / bus_factor
                                time_us = size / (alg * 1e3)
                                row = {"type": "result", "run": run, "benchmark": bench, "backend": backend,
                                       "variant": variant, "dtype": "float", "op": "sum", "size_bytes": size,
                                       "count": size // 4, "ranks": ranks, "timing": "events", "iterations": 20,
                                       "time_us": round(time_us, 3), "algbw_gbps": round(alg, 3),
                                       "busbw_gbps": round(bus, 3), "wrong": 0}
                                f.write(json.dumps(row, sort_keys=True) + "\n")
                                written += 1

if __name__ == "__main__":
    main()
