# gpucomm top on NVLink (issue 6): NVML call costs, correctness beside an all-to-all (field values
# and GPM), overhead of every strategy at 1 Hz and 10 Hz (top's own --self-cost), and a 30 s run
# at 10 Hz with --links (the configuration of the one segfault seen). Sourced by bench/run-gpu.sh
# (sees $G, $N, $R). About 2.5 minutes. Full logs under $R/top/; summary by bench/top/summary.py.
T=$R/top; mkdir -p $T


echo "--- top --links, field values and GPM side by side, beside a $N-GPU all-to-all (256 MiB per rank)"
timeout 120 $G top --json --links --nvlink-counters fields --interval 250ms --duration 90s --record $T/trace-fields.json \
  > $T/links-fields.jsonl 2> $T/links-fields.err & TOPF=$!
timeout 120 $G top --json --links --nvlink-counters gpm --interval 250ms --duration 90s --record $T/trace-gpm.json \
  > $T/links-gpm.jsonl 2> $T/links-gpm.err & TOPG=$!
sleep 2
timeout 100 $G nccl alltoall -b 256M -e 256M -g $N -n 6000 -w 10 --no-results > $T/alltoall.log 2>&1; echo "alltoall rc=$?"
sleep 1; kill -TERM $TOPF $TOPG 2>/dev/null
wait $TOPF; echo "top fields rc=$?"; wait $TOPG; echo "top gpm rc=$?"
head -2 $T/links-fields.err $T/links-gpm.err | cut -c1-200
python3 bench/top/check_links.py $T/links-fields.jsonl > $T/check-fields.txt 2>&1; echo "check fields rc=$?"; cat $T/check-fields.txt
python3 bench/top/check_links.py $T/links-gpm.jsonl > $T/check-gpm.txt 2>&1; echo "check gpm rc=$?"; cat $T/check-gpm.txt

echo "--- overhead: top --json --self-cost, 12 s each, one at a time, no traffic"
for method in fields gpm; do for view in sums links; do for iv in 1s 100ms; do
  [ "$method $view $iv" = "fields links 100ms" ] && continue   # measured by the 30 s run below
  flag=""; [ $view = links ] && flag=--links
  timeout 40 $G top --json $flag --nvlink-counters $method --interval $iv --duration 12s --self-cost > /dev/null 2> $T/cost-$method-$view-$iv.err
  echo $? > $T/cost-$method-$view-$iv.rc
done; done; done

echo "--- 30 s at 10 Hz with --links (field values): the crash check, also its overhead figure"
# SWIFT_BACKTRACE=enable=no: top's own handler prints module+offset frames (it steps aside for the runtime's).
SWIFT_BACKTRACE=enable=no timeout 60 $G top --json --links --nvlink-counters fields --interval 100ms --duration 30s --self-cost \
  > $T/crash-run.jsonl 2> $T/cost-fields-links-100ms.err
echo $? > $T/cost-fields-links-100ms.rc; echo "30 s run rc=$(cat $T/cost-fields-links-100ms.rc), lines $(wc -l < $T/crash-run.jsonl)"
gzip -f $T/crash-run.jsonl $T/links-fields.jsonl $T/links-gpm.jsonl $T/trace-fields.json $T/trace-gpm.json 2>/dev/null

python3 bench/top/summary.py $T | tee $T/summary.txt
