#!/usr/bin/env bash
# CI fuzzing (issue 17): every fixture mutated by bytes and lines, through every importer and
# `report`/`compare`/`import`, 20,000 mutants in two workers (one per core), at most 5 minutes.
# Fails on a crash, a hang (a mutant over 10 s), a partial output file or an undocumented exit.
# A crashing or hanging input is copied to Tests/ResultsTests/Fixtures/fuzz/ (commit it there as a
# regression fixture: ReportTests' FuzzFindingTests runs every file in that folder through import,
# report and compare); other failing inputs are copied to .ci/fuzz-failures/.
# Replay: FUZZ_SEED=<seed> .ci/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
MUTANTS=${FUZZ_MUTANTS:-20000}
SEED=${FUZZ_SEED:-$(date +%Y%m%d)}
WORKERS=${FUZZ_WORKERS:-2}
swift build --product gpucomm-fuzz
BIN=$(swift build --show-bin-path)/gpucomm-fuzz
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
start=$(date +%s)
pids=()
for w in $(seq 1 "$WORKERS"); do
  "$BIN" --mutants $((MUTANTS / WORKERS)) --seed $((SEED * 16 + w)) --max-seconds 280 --work "$WORK/w$w" \
    Tests/ResultsTests/Fixtures Sources/Report/Example 2> "$WORK/w$w.log" &
  pids+=($!)
done
status=0
for w in $(seq 1 "$WORKERS"); do
  if wait "${pids[$((w - 1))]}"; then rc=0; else rc=$?; fi
  cat "$WORK/w$w.log"
  if [ "$rc" -ne 0 ]; then
    status=1
    if [ "$rc" -gt 128 ] || [ "$rc" -eq 3 ]; then
      kind=$([ "$rc" -eq 3 ] && echo hang || echo "crash-signal$((rc - 128))")
      keep="Tests/ResultsTests/Fixtures/fuzz/$kind-$SEED-$w-$(basename "$(cut -d' ' -f2 "$WORK/w$w/current.meta")")"
      cp "$WORK/w$w/current.input" "$keep"
      echo "fuzz: worker $w ended with status $rc ($kind) on mutant $(cat "$WORK/w$w/current.meta"); input kept as $keep" >&2
    fi
    if [ -d "$WORK/w$w/failures" ]; then
      mkdir -p .ci/fuzz-failures && cp -r "$WORK/w$w/failures/." .ci/fuzz-failures/
      echo "fuzz: failing inputs copied to .ci/fuzz-failures/" >&2
    fi
  fi
done
echo "fuzz: $MUTANTS mutants, seed $SEED, $WORKERS workers, $(( $(date +%s) - start )) s, status $status"
exit $status
