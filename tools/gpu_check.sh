#!/bin/bash
# The GPU checks in one call, for the lent GPU machine (../shared/GPU.md). The
# stages run in the order named and share a time budget (seconds) so that the
# call ends, and packs its logs, inside the device tool's limit:
#   tests      every test program (the CUDA parity tests included; PyTorch on
#              that machine makes the ResNet parity fixtures)
#   sanitizer  compute-sanitizer memcheck over the small CUDA test programs (not yet
#              conv2d, dense, tensor and graph: too slow for the budget)
#   bench      bench_kernels, and compare_pytorch.py (PyTorch eager and
#              torch.compile beside bench_train and bench_kernels)
#   train      cnn2, cnn1, cnn3 and ResNet-18, 20 epochs on a generated 12k set
#   real       cnn2 on the real sample, REAL_SEEDS seeds of Nebula and of
#              benchmarks/train_pytorch.py, then REAL_MODELS in Nebula; the
#              sample at $REAL_SAMPLE (images/, labels_partial.csv, split.csv)
# Under $OUT: summary.txt (printed last), logs.tgz, train.tgz.
#
# Here:   cmake --build build -j2 && ../shared/tools/gpu-bundle.sh build .gpu
#         strip --strip-unneeded .gpu/bin/* && mkdir -p .gpupack
#         tar cf - .gpu | xz -6 -T2 > .gpupack/gpu.tar.xz
#         (.gpu/ and .gpupack/ in .git/info/exclude; packed, the bundle fits the
#         tool's 64 MiB where the unpacked one does not)
# There:  bash tools/gpu_check.sh BUDGET STAGE...     (with .gpupack carried)
# The real sample (66 MiB) does not fit beside the bundle: copy half of it into
# an ignored folder carried by a first call that copies it to /tmp/real, and
# the rest, with labels_partial.csv and a split.csv, beside the bundle in the
# next call, made at once (the machine stays warm for 30 s).
set -u
budget=${1:-420}
shift
stages=${*:-tests bench train}
left() { echo $((budget - SECONDS)); }
OUT=${OUT:-out/gpu}
work=/tmp/nebula-gpu logs=/tmp/nebula-gpu/logs runs=/tmp/nebula-gpu/train
mkdir -p "$OUT" "$logs" "$runs"
summary=$OUT/summary.txt
# Results only: checkpoints stay behind (the tool brings back 16 MiB a file).
pack() {
  tar czf "$OUT/logs.tgz" -C "$logs" .
  tar czf "$OUT/train.tgz" -C "$runs" --exclude='*.safetensors' .
}

[ -d .gpu ] || tar xJf .gpupack/gpu.tar.xz
source .gpu/env.sh
export LD_LIBRARY_PATH=$LD_LIBRARY_PATH:/usr/local/cuda/lib64 PATH=$PATH:/usr/local/cuda/bin
export NEBULA_SOURCE_DIR=$PWD NEBULA_APPS_DIR=$PWD/.gpu/bin NEBULA_PYTHON=$(command -v python3)
export NEBULA_RESNET_FIXTURES=$work/resnet_fixtures
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
  python3 -c "import torch; print('torch', torch.__version__, 'cuDNN', torch.backends.cudnn.version())"
  ldd .gpu/bin/train_cnn | grep 'not found'
} 2>&1 | tee "$summary"

run_test() {  # PROGRAM TIMEOUT [WRAPPER...]: one line of results
  local program=$1 limit=$2 name; shift 2
  name=$(basename "$program")${1:+-$(basename "$1")}
  if timeout "$limit" "$@" "$program" > "$logs/$name.log" 2>&1; then status=ok; else status="FAILED rc=$?"; fi
  echo "$name: $status $(grep -E '^\[  (PASSED|FAILED|SKIPPED) |ERROR SUMMARY' "$logs/$name.log" | tr '\n' ' ' | tr -s ' ')"
}
export -f run_test; export logs

stage_tests() {  # the CUDA programs one after another, the CPU ones beside them
  ls .gpu/bin/*_test | grep -v /cuda_ | xargs -P 8 -I{} bash -c 'run_test {} 150' > "$logs/cpu_tests.txt" &
  for test in .gpu/bin/cuda_*_test; do run_test "$test" 90; done > "$logs/cuda_tests.txt"
  wait
  cat "$logs/cuda_tests.txt" "$logs/cpu_tests.txt"
  echo "test programs failed: $(cat "$logs/cuda_tests.txt" "$logs/cpu_tests.txt" | grep -c FAILED)"
}

stage_sanitizer() {
  local limit=60
  for test in cuda_activation cuda_add cuda_dropout cuda_galaxy_tree_output cuda_maxpool2d cuda_global_avg_pool \
    cuda_batchnorm2d cuda_mse cuda_optimizer cuda_views cuda_view_merge cuda_maxout cuda_cnn1_step; do
    run_test ".gpu/bin/${test}_test" "$limit" compute-sanitizer --tool memcheck --error-exitcode 9 &
  done
  wait
}

stage_bench() {
  timeout 120 bench_kernels --benchmark_out="$logs/bench_kernels.json" --benchmark_out_format=json \
    > "$logs/bench_kernels.txt" 2>&1
  echo "bench_kernels rc=$?"
  PYTHONUNBUFFERED=1 timeout $(( $(left) - 20 )) python3 benchmarks/compare_pytorch.py --device cuda \
    --nebula-gpu .gpu/bin/bench_train --kernels .gpu/bin/bench_kernels > "$logs/compare_pytorch.txt" 2>&1
  echo "compare_pytorch rc=$?"
}

stage_train() {
  local gal=$work/gal12k
  make_galaxies --out "$gal" --count 12000 --seed 12 > "$logs/make_galaxies.log" 2>&1
  for model in cnn2 cnn1 cnn3 resnet18; do
    local t=$(( $(left) - 15 ))
    [ "$t" -gt 20 ] || { echo "train $model: no time left"; continue; }
    timeout "$t" train_cnn --data "$gal" --model "$model" --split 8000/2000/2000 --epochs 20 \
      --out "$runs/$model" > "$runs/$model.log" 2>&1
    echo "train $model rc=$?: $(tr -d '\n ' < "$runs/$model/summary.json" 2>/dev/null | cut -c1-400)"
  done
}

# cnn2: Nebula's seeds one after another on the GPU, PyTorch's beside them
# (each its own process, augmenting on 2 cores, training on the same GPU);
# then REAL_MODELS (Nebula, seed 0).
stage_real() {
  local sample=${REAL_SAMPLE:?set REAL_SAMPLE} seeds=${REAL_SEEDS:-0 1 2 3 4}
  for seed in $seeds; do
    PYTHONUNBUFFERED=1 timeout $(( $(left) - 15 )) python3 benchmarks/train_pytorch.py --images "$sample/images" \
      --labels "$sample/labels_partial.csv" --split-csv "$sample/split.csv" --model cnn2 --seed "$seed" \
      --device cuda --threads 2 > "$runs/real-pytorch-cnn2-$seed.log" 2>&1 &
  done
  local runs_wanted
  runs_wanted=$(for seed in $seeds; do echo "cnn2 $seed"; done; for m in ${REAL_MODELS:-}; do echo "$m 0"; done)
  while read -r model seed; do
    local out=$runs/real-nebula-$model-$seed
    timeout $(( $(left) - 15 )) train_cnn --images "$sample/images" --labels "$sample/labels_partial.csv" \
      --model "$model" --split 4000/500/500 --split-seed 0 --seed "$seed" --epochs 20 --workers 6 \
      --out "$out" < /dev/null > "$out.log" 2>&1
    echo "real nebula $model seed $seed rc=$?: $(tr -d '\n ' < "$out/summary.json" 2>/dev/null | cut -c1-300)"
  done <<< "$runs_wanted"
  wait
  for seed in $seeds; do echo "real pytorch cnn2 seed $seed: $(tail -1 "$runs/real-pytorch-cnn2-$seed.log")"; done
}

for stage in $stages; do
  echo "== $stage (at ${SECONDS}s)" >> "$summary"
  "stage_$stage" >> "$summary" 2>&1
  pack
done
echo "== done at ${SECONDS}s" >> "$summary"
cat "$summary"
if [ -f "$logs/compare_pytorch.txt" ]; then tail -40 "$logs/compare_pytorch.txt"; fi
