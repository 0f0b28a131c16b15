# NVSHMEM point-to-point: put/get bandwidth (device and host), the tuning sweep, latency and
# signal ping-pong, on pair 0,1 (--np 2) and pair 0,3 (--np 4). Sourced by bench/run-gpu.sh
# ($G binary, $N GPUs, $R logs). Full logs and results under $R/p2p; stdout: one line per
# command (rc, wrong bytes) and the figures that choose the defaults.
P=$R/p2p; mkdir -p $P; J=$P/results.jsonl
p2p() {  # p2p NAME TIMEOUT ARGS...: runs gpucomm ARGS, log in $P/NAME.log, one summary line
  local name=$1 t=$2; shift 2
  timeout $t $G "$@" --results $J > $P/$name.log 2>&1; local rc=$?
  local bad=$(grep -E "^ +[0-9a-z]" $P/$name.log | awk '$NF ~ /^[0-9]+$/ && $NF > 0' | wc -l)
  printf "%-22s rc=%-3s rows=%-3s rows-with-wrong=%s\n" "$name" "$rc" "$(grep -cE '^ +[0-9a-z]' $P/$name.log)" "$bad"
  [ $rc -ne 0 ] && grep -E "^gpucomm:|error|Error" $P/$name.log | head -3 | cut -c1-200
}
show() { grep -E "^#  |^ +[0-9a-z]|^# best" $P/$1.log | grep -vE "^#  +\(|^#   op|^#  +size" | cut -c1-130; }

# 1. Tuning sweep: every grid × threads combination at 64M, 256M, 1G (block nbi put, one process start).
p2p put-sweep 240 nvshmem put --np 2 -b 64M -e 1G -f 4 -n 20 --blocks 1x,2x,4x --threads 256,512,1024
grep "^# best" $P/put-sweep.log
# Per-launch timing (--inner 1) against the default, and round-robin chunks, at the default shape.
p2p put-inner1 60 nvshmem put --np 2 -b 64M -e 64M --inner 1
p2p put-chunks 90 nvshmem put --np 2 -b 256M -e 256M --chunk 0,256K,1M,4M
grep "^# best" $P/put-chunks.log
# 2. Defaults, full size range, one way and both ways, every scope, blocking and nbi.
p2p put-default 90 nvshmem put --np 2 -b 1M -e 1G -f 4; show put-default
p2p put-warp-blk 60 nvshmem put --np 2 -b 256M -e 256M --scope warp --blocking
p2p put-bidir 60 nvshmem put --np 2 -b 64M -e 1G -f 4 --bidirectional; show put-bidir
p2p get-default 90 nvshmem get --np 2 -b 1M -e 1G -f 4; show get-default
p2p get-sweep 120 nvshmem get --np 2 -b 256M -e 256M --blocks 1x,2x,4x --threads 256,512,1024
grep "^# best" $P/get-sweep.log
# 2b. TMA path (bulk async copies into the peer through nvshmem_ptr): default ring (1x, 32 threads,
# 32K x 4), one way and both ways; then grid x ring sweep. Target: >= 390 GB/s at >= 64M.
p2p put-tma 90 nvshmem put --np 2 --scope tma -b 64M -e 1G -f 4; show put-tma
p2p put-tma-bidir 90 nvshmem put --np 2 --scope tma -b 64M -e 1G -f 4 --bidirectional; show put-tma-bidir
p2p put-tma-sweep 240 nvshmem put --np 2 --scope tma -b 64M -e 1G -f 4 --blocks 1x,2x --tma-stage 16K,32K,48K --tma-stages 2,4
grep "^# best" $P/put-tma-sweep.log
# 3. Host-initiated on-stream (copy engines): expect close to the 393 GB/s peer copy at 1G.
p2p put-host 60 nvshmem put --np 2 --host -b 1M -e 1G -f 4; show put-host
p2p put-host-bidir 60 nvshmem put --np 2 --host -b 1G -e 1G --bidirectional --blocking
p2p get-host 60 nvshmem get --np 2 --host -b 64M -e 1G -f 4; show get-host
# 4. Another pair with idle PEs: GPU 0 and GPU 3 of 4.
if [ "$N" -ge 4 ]; then
  p2p put-pair03 90 nvshmem put --np 4 --pair 0,3 -b 256M -e 1G -f 4; show put-pair03
  p2p get-pair30 90 nvshmem get --np 4 --pair 3,0 -b 256M -e 256M --host
  p2p lat-pair03 90 nvshmem latency --np 4 --pair 0,3 --ops p,put -b 8 -e 8
  p2p sig-pair03 90 nvshmem signal --np 4 --pair 0,3 -b 8 -e 4K -f 8
fi
# 5. Latency (p, g, put, get; 8 B .. 64 KiB) and signal ping-pong, thread scope, then warp and block.
p2p latency 120 nvshmem latency --np 2; show latency
p2p latency-block 90 nvshmem latency --np 2 --ops put,get --scope block --threads 512 -b 8 -e 64K -f 8
show latency-block
p2p signal 120 nvshmem signal --np 2; show signal
p2p signal-block 90 nvshmem signal --np 2 --scope block --threads 512 -b 8 -e 64K -f 8
# 6. Bad input still answers in one line before GPU work.
timeout 20 $G nvshmem put --np 2 --pair 0,2 > $P/bad.log 2>&1; echo "bad pair --np 2 --pair 0,2: rc=$? $(head -1 $P/bad.log | cut -c1-120)"
echo "p2p results rows: $(grep -c '"type":"result"' $J 2>/dev/null); wrong>0 rows: $(grep '"type":"result"' $J | grep -cE '"wrong":[1-9]')"
