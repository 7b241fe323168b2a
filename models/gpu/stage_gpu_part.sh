#!/usr/bin/env bash
# Stages what one GPU call carries in data/gpu (carry ["data/gpu"]): `N` the Nth train shard for gpu_run.sh part N
# (part 1 also ../shared/evals, which does not travel by itself); `heldout` the held-out shards, for gpu_run.sh
# finish or along with a small last train shard (`6 heldout`); `init` the shipped graph, xz-compressed, for
# gpu_run.sh init (INIT_FOLDER, default models/ultramem-code-s); `ckpt` checkpoint parts for gpu_run.sh resume:
# parts.json and up to 3 parts (15 MiB each) of CKPT_PARTS (a folder written by checkpoint_parts.py split) from
# PART_FROM (0, 3, 6, ...). Prints what will travel: the working tree plus data/gpu must stay under 64 MiB, so
# move models/ultramem-code-s/model.onnx out of the tree for these calls. STAGE_DIR stages into another ignored folder
# (default data/gpu), so that a lease's calls can be staged before it: the call carries that folder and renames it
# (`rm -rf data/gpu && mv data/gpu_2 data/gpu && bash models/gpu/gpu_run.sh part 2`), with no staging between calls.
# Usage (repository root): bash models/gpu/stage_gpu_part.sh N|heldout|init|ckpt [heldout]
set -euo pipefail
shards=${SHARDS:-data/corpus/shards}
gpu=${STAGE_DIR:-data/gpu}
rm -rf "$gpu" && mkdir -p "$gpu"
for what in "$@"; do
  if [ "$what" = heldout ]; then
    cp -r "$shards/heldout" "$gpu/heldout"
  elif [ "$what" = ckpt ]; then
    mkdir -p "$gpu/ckpt" && cp "$CKPT_PARTS/parts.json" "$gpu/ckpt/"
    find "$CKPT_PARTS" -name 'ckpt.part*' | sort | sed -n "$((${PART_FROM:-0} + 1)),$((${PART_FROM:-0} + 3))p" \
      | xargs -r cp -t "$gpu/ckpt/"
  elif [ "$what" = init ]; then
    mkdir -p "$gpu/init" && xz -T2 -c "$(readlink -f "${INIT_FOLDER:-models/ultramem-code-s}/model.onnx")" \
      > "$gpu/init/model.onnx.xz"
  else
    shard=$(find "$shards/train" -name '*.jsonl.xz' | sort | sed -n "${what}p")
    [ -n "$shard" ] || { echo "no train shard number $what in $shards/train" >&2; exit 1; }
    mkdir -p "$gpu/train" && cp "$shard" "$gpu/train/"
    [ "$what" != 1 ] || cp -r ../shared/evals "$gpu/evals"
  fi
done
tree_bytes=$(git ls-files -co --exclude-standard -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
gpu_bytes=$(du -sb "$gpu" | cut -f1)
echo "travels: tree $((tree_bytes >> 20)) MiB + $gpu $((gpu_bytes >> 20)) MiB = $(((tree_bytes + gpu_bytes) >> 20)) MiB (limit 64)"
