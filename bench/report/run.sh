#!/usr/bin/env bash
# Times `gpucomm report` (release build) on 10k, 100k and 1,000,000 gpucomm records and writes
# bench/report/times.tsv, bench/report/README.md's table input, and bench/report/report-time.svg.
# Usage: bench/report/run.sh [runs per size, default 5]. Needs python3 and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
swift build -c release --product gpucomm >&2
work=.build/bench-report
mkdir -p "$work"
out=bench/report/times.tsv
printf 'records\trun\twall_s\tuser_s\tsys_s\tmax_rss_kb\tload_1min\n' > "$out"
for n in 10000 100000 1000000; do
  f="$work/records-$n.jsonl"
  [ -f "$f" ] || python3 bench/report/make_records.py "$n" "$f"
  for r in $(seq "$runs"); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    /usr/bin/time -o "$work/time.txt" -f '%e\t%U\t%S\t%M' .build/release/gpucomm report "$f" --out "$work/out-$n" >/dev/null 2>"$work/stderr.txt"
    printf '%s\t%s\t%s\t%s\n' "$n" "$r" "$(cat "$work/time.txt")" "$load" >> "$out"
  done
done
python3 bench/report/plot.py "$out" bench/report/report-time.svg
cat "$out"
