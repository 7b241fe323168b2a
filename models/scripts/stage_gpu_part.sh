#!/usr/bin/env bash
# Stages what one GPU call carries in data/gpu (carry ["data/gpu"]): `N` the Nth train shard for gpu_run.sh part N
# (part 1 also ../shared/evals, which does not travel by itself); `heldout` the held-out shards for gpu_run.sh
# finish. Prints what will travel: the working tree plus data/gpu must stay under 64 MiB, so move
# models/ultramem-code-s/model.onnx out of the tree for these calls.
# Usage: bash models/scripts/stage_gpu_part.sh N|heldout
set -euo pipefail
shards=${SHARDS:-data/corpus/shards}
rm -rf data/gpu && mkdir -p data/gpu
if [ "$1" = heldout ]; then
  cp -r "$shards/heldout" data/gpu/heldout
else
  shard=$(find "$shards/train" -name '*.jsonl.xz' | sort | sed -n "$1p")
  [ -n "$shard" ] || { echo "no train shard number $1 in $shards/train" >&2; exit 1; }
  mkdir -p data/gpu/train && cp "$shard" data/gpu/train/
  [ "$1" != 1 ] || cp -r ../shared/evals data/gpu/evals
fi
tree_bytes=$(git ls-files -co --exclude-standard -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
gpu_bytes=$(du -sb data/gpu | cut -f1)
echo "travels: tree $((tree_bytes >> 20)) MiB + data/gpu $((gpu_bytes >> 20)) MiB = $(((tree_bytes + gpu_bytes) >> 20)) MiB (limit 64)"
