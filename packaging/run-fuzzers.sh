#!/usr/bin/env bash
# Fuzzes every parser of untrusted input with libFuzzer (tests/fuzz): IDX, .npy headers, sidecar JSON, DATASET#INDEX
# references, the project catalogue's scan layout and top-k records, index metadata, the model-archive check and the
# ONNX reader and importer.
#
#   bash packaging/run-fuzzers.sh [SECONDS_PER_TARGET]      (default 60)
#
# Configures build-fuzz with clang (CC=clang CXX=clang++ -DCONVSCOPE_BUILD_FUZZERS=ON; nothing else is built there),
# builds the targets with one job, makes seed corpora from real files (tests/fuzz/make_seeds.py; the CLI of build/
# makes a small project when it is built), replays the saved regression inputs (tests/fuzz/regressions/<target>/),
# then runs each target for the fixed time and prints executions, coverage (libFuzzer's `cov:` edges and `ft:`
# features) and corpus size per target. The corpus grows across runs in build-fuzz/corpus/<target>; crashing,
# hanging or out-of-memory inputs land in build-fuzz/artifacts/<target>/. Exits non-zero when any target fails.
# Needs Debian's clang and libclang-rt-14-dev (packaging/setup-debian.sh installs them).
set -uo pipefail

SECONDS_PER_TARGET="${1:-60}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$ROOT/build-fuzz"
TARGETS=(idx npy sidecar_json dataset_reference catalogue topk_records index_metadata model_archive onnx_model)

cd "$ROOT" || exit 2
CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCONVSCOPE_BUILD_FUZZERS=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || { echo "run-fuzzers: configure failed" >&2; exit 2; }
ninja -j1 -C "$BUILD" >/dev/null || { ninja -j1 -C "$BUILD"; echo "run-fuzzers: build failed" >&2; exit 2; }

CLI="$ROOT/build/app/convscope"
/usr/bin/python3 tests/fuzz/make_seeds.py "$BUILD/seeds" "$CLI" || { echo "run-fuzzers: seeds failed" >&2; exit 2; }

# Field `name` (e.g. "cov:") of libFuzzer's last status line in `log`, or "-".
status_field() {
  grep -aE '^#[0-9]+' "$2" | tail -1 | grep -aoE "$1 [0-9]+" | awk '{print $2}' | grep . || echo "-"
}

failed=0
rows=()
for t in "${TARGETS[@]}"; do
  bin="$BUILD/tests/fuzz/fuzz_$t"
  corpus="$BUILD/corpus/$t"
  artifacts="$BUILD/artifacts/$t"
  log="$BUILD/logs/$t.log"
  mkdir -p "$corpus" "$artifacts" "$BUILD/logs"
  rm -f "$artifacts"/*
  regressions=$(ls "tests/fuzz/regressions/$t"/* 2>/dev/null)
  if [ -n "$regressions" ] && ! "$bin" -runs=1 $regressions >"$BUILD/logs/$t.regressions.log" 2>&1; then
    echo "run-fuzzers: $t fails a saved regression input (see $BUILD/logs/$t.regressions.log)" >&2
    failed=1
  fi
  echo "run-fuzzers: $t for ${SECONDS_PER_TARGET}s" >&2
  "$bin" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -dict="tests/fuzz/dicts/$t.dict" -artifact_prefix="$artifacts/" "$corpus" "$BUILD/seeds/$t" >"$log" 2>&1
  rc=$?
  execs=$(grep -aoE 'stat::number_of_executed_units: [0-9]+' "$log" | awk '{print $2}' | grep . || echo "-")
  crashes=$(find "$artifacts" -type f | wc -l)
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    failed=1
  fi
  rows+=("$(printf '%-18s %7s %12s %7s %7s %7s %8s' "$t" "$SECONDS_PER_TARGET" "$execs" \
    "$(status_field cov: "$log")" "$(status_field ft: "$log")" "$(status_field corp: "$log")" "$crashes")")
done

printf '\n%-18s %7s %12s %7s %7s %7s %8s\n' target seconds executions cov ft corpus crashes
for r in "${rows[@]}"; do echo "$r"; done
if [ "$failed" -ne 0 ]; then
  echo "run-fuzzers: failures — inputs in $BUILD/artifacts/, logs in $BUILD/logs/" >&2
  exit 1
fi
