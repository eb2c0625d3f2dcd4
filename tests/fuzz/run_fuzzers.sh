#!/usr/bin/env bash
# Builds the reader fuzz harnesses (tests/fuzz/harnesses) with clang++ into
# BUILD_DIR, writes a fresh seed corpus and runs each harness for SECONDS.
#   tests/fuzz/run_fuzzers.sh [BUILD_DIR [SECONDS]]      (default build/fuzz, 15)
# Exit status 1 when a harness reports a finding: the input that caused it is
# kept as BUILD_DIR/findings/<reader>-crash-..., the log as BUILD_DIR/logs/<reader>.log.
# Rerun one input with: BUILD_DIR/fuzz_<reader> FILE
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(mkdir -p "${1:-$here/../../build/fuzz}" && cd "${1:-$here/../../build/fuzz}" && pwd)
seconds=${2:-15}
cxx=${NEBULA_FUZZ_CXX:-clang++}

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
if ! { cmake -S "$here/harnesses" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" "${launcher[@]}" &&
       cmake --build "$build" -j "$(nproc)"; } >"$build/build.log" 2>&1; then
  tail -n 50 "$build/build.log"
  echo "run_fuzzers: the harnesses did not build (log: $build/build.log)"
  exit 1
fi

rm -rf "$build/seeds" "$build/corpus" "$build/findings" "$build/logs"
mkdir -p "$build/findings" "$build/logs"
"$build/make_seeds" "$build/seeds"

status=0
for reader in pth safetensors model labels image; do
  # New inputs go to corpus/ (the first folder), so seeds/ stays as written.
  mkdir -p "$build/corpus/$reader"
  log="$build/logs/$reader.log"
  if "$build/fuzz_$reader" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
       -artifact_prefix="$build/findings/$reader-" "$build/corpus/$reader" "$build/seeds/$reader" >"$log" 2>&1; then
    result=clean
  else
    result="FINDING: see $log and $build/findings/"
    status=1
  fi
  runs=$(sed -n 's/^Done \([0-9]*\) runs in .*/\1/p' "$log" | tail -n 1)
  printf '%-12s %9s inputs in %ss  %s\n' "$reader" "${runs:-?}" "$seconds" "$result"
  if [ "$result" != clean ]; then tail -n 40 "$log"; fi
done
exit "$status"
