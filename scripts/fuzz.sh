#!/usr/bin/env bash
# Run every libFuzzer target in BUILD/bin for FUZZ_SECONDS each, seeded from
# tests/fuzz/corpus/<target>/ (a scratch copy, so runs never rewrite the committed corpus).
set -euo pipefail
build=${1:-build-fuzz}
secs=${FUZZ_SECONDS:-60}
shopt -s nullglob
targets=("$build"/bin/fuzz_*)
[ ${#targets[@]} -gt 0 ] || { echo "fuzz.sh: no fuzz targets in $build/bin" >&2; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for t in "${targets[@]}"; do
  name=$(basename "$t")
  mkdir -p "$work/$name"
  seeds=tests/fuzz/corpus/$name
  [ -d "$seeds" ] && cp -r "$seeds"/. "$work/$name"/
  echo "fuzz: $name for ${secs}s"
  "$t" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$work/$name-" "$work/$name" 2>"$work/$name.log" \
    || { tail -60 "$work/$name.log"; echo "fuzz: $name FAILED" >&2; exit 1; }
  grep -E 'stat::number_of_executed_units|Done' "$work/$name.log" | tail -2
done
