#!/bin/bash
# The whole GPU check in one call, for the lent GPU machine (../shared/GPU.md):
# every test program (the CUDA parity tests included), the kernel and training
# benchmarks, and PyTorch's figures for the same work on the same card. Logs go
# under $OUT; the short summary is printed last.
#
# Here:   cmake -B build-gpu -DCMAKE_CUDA_ARCHITECTURES=90 && cmake --build build-gpu -j2
#         ../shared/tools/gpu-bundle.sh build-gpu .gpu
# There:  bash tools/gpu_check.sh            (with .gpu carried)
set -u
OUT=${OUT:-out/gpu}
mkdir -p "$OUT"
source .gpu/env.sh
export NEBULA_SOURCE_DIR=$PWD
summary=$OUT/summary.txt
nvidia-smi -L | tee "$summary"

failed=0
for test in .gpu/bin/*_test; do
  name=$(basename "$test")
  if timeout 900 "$test" > "$OUT/$name.log" 2>&1; then status=ok; else status=FAILED; failed=$((failed + 1)); fi
  echo "$name: $status $(grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$OUT/$name.log" | tr '\n' ' ')" >> "$summary"
done
echo "test programs failed: $failed" >> "$summary"

bench_kernels --benchmark_out="$OUT/bench_kernels.json" --benchmark_out_format=json > "$OUT/bench_kernels.txt" 2>&1
python3 benchmarks/compare_pytorch.py --device cuda --nebula-gpu .gpu/bin/bench_train \
  --kernels .gpu/bin/bench_kernels > "$OUT/compare_pytorch.txt" 2>&1
cat "$summary"
tail -60 "$OUT/compare_pytorch.txt"
