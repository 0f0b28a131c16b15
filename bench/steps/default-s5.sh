# Session 5, last call: cuda-ce-1p's default is now --copy-sync relay (no kernel that can spin;
# within 0.5% of flags from 64 MiB up, faster below). Both repeated at 256M and 1G, -n 50, three
# times, and at 4 KiB per peer. Sourced by bench/run-gpu.sh ($G, $N, $R, step()).
C=$R/ce1p; mkdir -p $C
step "cuda-ce-1p relay (default) and flags at 256M and 1G, -n 50, three times each"
for rep in 1 2 3; do for s in relay flags; do
  timeout 90 $G alltoall --np $N --backends cuda-ce-1p --copy-sync $s -b 256M -e 1G -f 4 -n 50 -w 5 --results $C/rows.jsonl > $C/$s-rep$rep.log 2>&1
  echo "[$s rep$rep] rc=$?: $(grep -E '^ +[0-9]' $C/$s-rep$rep.log | awk '{printf "%s=%s(%s us) ", $1, $4, $3}')"
done; done
step "cuda-ce-1p at 4 KiB per peer, -n 1000: relay, flags, events, events-graph"
for s in relay flags events events-graph; do
  timeout 60 $G alltoall --np $N --backends cuda-ce-1p --copy-sync $s -b $((4096 * N)) -e $((4096 * N)) -n 1000 -w 100 --results $C/rows.jsonl > $C/lat-$s.log 2>&1
  echo "[lat $s] rc=$?: $(grep -E '^ +[0-9]' $C/lat-$s.log | awk '{printf "%s us", $3}')"
done
