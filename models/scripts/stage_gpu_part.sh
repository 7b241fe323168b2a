#!/usr/bin/env bash
# Stages corpus part N for one GPU call (gpu_run.sh part N, with carry ["data/gpu"]): the Nth train shard in
# data/gpu/train/; part 1 also carries the held-out shards and ../shared/evals (which does not travel by itself).
# Prints what will travel: the working tree plus data/gpu must stay under 64 MiB, so move
# models/ultramem-code-s/model.onnx out of the tree for these calls.
# Usage: bash models/scripts/stage_gpu_part.sh N
set -euo pipefail
n=$1
shards=${SHARDS:-data/corpus/shards}
shard=$(find "$shards/train" -name '*.jsonl.xz' | sort | sed -n "${n}p")
[ -n "$shard" ] || { echo "no train shard number $n in $shards/train" >&2; exit 1; }
rm -rf data/gpu && mkdir -p data/gpu/train
cp "$shard" data/gpu/train/
if [ "$n" = 1 ]; then
  cp -r "$shards/heldout" data/gpu/heldout
  cp -r ../shared/evals data/gpu/evals
fi
tree_bytes=$(git ls-files -co --exclude-standard -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
gpu_bytes=$(du -sb data/gpu | cut -f1)
echo "travels: tree $((tree_bytes >> 20)) MiB + data/gpu $((gpu_bytes >> 20)) MiB = $(((tree_bytes + gpu_bytes) >> 20)) MiB (limit 64)"
