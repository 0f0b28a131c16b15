# The 1 GiB-per-rank row of the all-backend all-to-all (the full sweep in alltoall.sh stopped at
# 256 MiB: nvshmem-host-graph hung at 1 GiB, now skipped above 256 MiB). Sourced by bench/run-gpu.sh.
timeout 200 $G alltoall --np $N --backends all -b 1G -e 1G -n 10 -w 2 --results $R/a2a-1g.jsonl > $R/a2a-1g.log 2>&1; echo "[a2a 1G] rc=$?"
grep -E "^#  *size|^ +[0-9]|unavailable|skipped|wrong bytes|FAILED|^gpucomm:" $R/a2a-1g.log | cut -c1-400
