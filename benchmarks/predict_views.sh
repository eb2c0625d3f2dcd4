#!/usr/bin/env bash
# The real sample on this machine's CPU: cnn2 with the study's sigmoid output and
# with the Galaxy Zoo tree output (galaxytree), each scored on its test split
# with predict --tta 1 (the image alone) and --tta 8 (its quarter turns and
# flips). Prints one line per run and model; RESULTS.md keeps the figures.
#   benchmarks/predict_views.sh [BUILD]    (SEEDS="1 2 3" EPOCHS=10 OUT=/tmp/nebula_views)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
SEEDS=${SEEDS:-"1 2 3"}
EPOCHS=${EPOCHS:-10}
OUT=${OUT:-/tmp/nebula_views}
DATA=../shared/data/galaxyzoo
mkdir -p "$OUT"
sed 's/dense outputs sigmoid/dense outputs galaxytree/' models/cnn2.model > "$OUT/cnn2-tree.model"
for seed in $SEEDS; do
  for model in cnn2 "$OUT/cnn2-tree.model"; do
    name=$(basename "$model" .model)-$seed
    "$BUILD/apps/train_cnn" --images "$DATA/images" --labels "$DATA/labels_partial.csv" --model "$model" \
        --split 4000/500/500 --epochs "$EPOCHS" --seed "$seed" --split-seed 1 --out "$OUT/$name" > "$OUT/$name.log" 2>&1
    # The test rows' labels, for predict --labels.
    awk -F, 'NR == FNR { if ($2 == "test") test[$1] = 1; next } FNR == 1 || ($1 in test)' \
        "$OUT/$name/split.csv" "$DATA/labels_partial.csv" > "$OUT/$name/test_labels.csv"
    mkdir -p "$OUT/$name/test_images"
    tail -n +2 "$OUT/$name/test_labels.csv" | cut -d, -f1 | while read -r id; do
      ln -sf "$(realpath "$DATA/images/$id.jpg")" "$OUT/$name/test_images/$id.jpg"
    done
    for tta in 1 8; do
      rmse=$("$BUILD/apps/predict" --checkpoint "$OUT/$name/best.safetensors" --images "$OUT/$name/test_images" \
          --labels "$OUT/$name/test_labels.csv" --tta $tta --out "$OUT/$name/tta$tta.csv" 2>/dev/null |
          sed -n 's/^RMSE \([0-9.]*\).*/\1/p')
      echo "$name tta $tta test RMSE $rmse"
    done
  done
done
