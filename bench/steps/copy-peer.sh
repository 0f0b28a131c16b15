# Issue 19 on 2 or more GPUs (for the multi-GPU issue): the GPU pair matrices by copy engine and
# SM, one way and both, one-to-all, all-to-one, all-to-host, host-to-all, and peer latency, in
# nvbandwidth's layout with the NVLink rate beside them. Sourced by bench/run-gpu.sh (sees $G, $N,
# $R, step). Logs under $R/copy-peer/; every command bounded by timeout.
P=$R/copy-peer; mkdir -p $P
if [ "$N" -lt 2 ]; then echo "copy-peer: $N GPU visible, needs 2 (skipped)"; else
  step "copy: GPU pair matrices on $N GPUs, 256 MiB"
  timeout 300 $G copy peer host -b 256M -e 256M -n 20 -w 5 --results $P/copy.jsonl > $P/copy.log 2> $P/copy.err; echo "copy peer rc=$?"
  grep -A $((N + 1)) -E "^memcpy CE GPU\(row\) (<-|->) GPU" $P/copy.log | head -$((2 * N + 6))
  grep -E "^SUM" $P/copy.log
  timeout 120 $G copy device_to_device_latency_sm --results $P/copy.jsonl > $P/latency.log 2>&1; echo "peer latency rc=$?"
  grep -A $((N + 1)) "^memory latency" $P/latency.log
fi
