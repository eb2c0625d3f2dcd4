#!/usr/bin/env bash
# The demo behind `make demo`: the best end-to-end run this build can do.
# With the data tools and train_cnn built, it renders synthetic galaxies and
# trains cnn1 on them; until then it trains cnn1 for a few steps on random data
# through bench_cpu, which exercises the whole engine.
set -euo pipefail
build=${1:-build}
out=${NEBULA_DEMO_DIR:-out/demo}

if [ -x "$build/apps/train_cnn" ] && [ -x "$build/apps/make_galaxies" ]; then
  mkdir -p "$out"
  count=${NEBULA_DEMO_COUNT:-4000}
  labels="$out/galaxies/training_solutions_rev1.csv"
  # A set left by an earlier demo is reused only if it has the count asked for.
  if [ ! -f "$labels" ] || [ "$(($(wc -l < "$labels") - 1))" != "$count" ]; then
    rm -rf "$out/galaxies"
    "$build/apps/make_galaxies" --out "$out/galaxies" --count "$count" --seed 1
  fi
  "$build/apps/train_cnn" --data "$out/galaxies" --model cnn1 --epochs "${NEBULA_DEMO_EPOCHS:-8}" \
    --split 0.8/0.1/0.1 --out "$out/run"
else
  echo "demo: train_cnn is not built; timing cnn1 training steps on random data instead"
  "$build/benchmarks/bench_cpu" --benchmark_filter=cnn1
fi
