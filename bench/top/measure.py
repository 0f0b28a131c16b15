#!/usr/bin/env python3
"""CPU overhead of `gpucomm top`: runs it for a fixed time and reports the CPU time it used.

usage: bench/top/measure.py GPUCOMM SECONDS INTERVAL [extra top args...]
e.g.   bench/top/measure.py .build/release/gpucomm 30 1s --json --sys-root Tests/MonitorTests/Fixtures/sys-efa --no-nvlink

Output goes to /dev/null; CPU time (user + system) comes from getrusage(RUSAGE_CHILDREN) and is
reported as a percentage of one core over the wall time, with the per-sample cost.
"""
import resource, subprocess, sys, time

gpucomm, seconds, interval, extra = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4:]
cmd = [gpucomm, "top", "--interval", interval, "--duration", f"{seconds}s"] + extra
before = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.monotonic()
rc = subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode
wall = time.monotonic() - t0
after = resource.getrusage(resource.RUSAGE_CHILDREN)
user = after.ru_utime - before.ru_utime
system = after.ru_stime - before.ru_stime
samples = round(seconds / (float(interval[:-2]) / 1000 if interval.endswith("ms") else float(interval.rstrip("s")))) + 1
print(f"command: {' '.join(cmd)}")
print(f"exit {rc}; wall {wall:.2f} s; cpu user {user:.3f} s + sys {system:.3f} s = {user + system:.3f} s")
print(f"overhead: {100 * (user + system) / wall:.3f} % of one core; {1000 * (user + system) / samples:.2f} ms CPU per sample ({samples} samples, start-up included)")
