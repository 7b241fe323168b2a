#!/usr/bin/env bash
# The first-model run on the GPU machine (4 x H200), in three phases, one device call each, state in /tmp/um:
#   prep    train the tokenizer on the train shards, tokenize train (FIM) and held-out (plain) data
#   train   start the UltraMem (GPU 0), dense twin (GPU 1) and MoE twin (GPUs 2-3, DDP) runs in the background,
#           same global batch, data order and step count; wait while they run
#   finish  wait for the runs, validation loss per language, export the UltraMem model folder, pack the results
# Usage (repository root, data/corpus/shards carried): bash models/scripts/gpu_first_model.sh PHASE
# Results go to $OUT (at most 8 files of 16 MiB: the model graph is split into parts).
set -euo pipefail
W=/tmp/um
OUT=${OUT:-$W/out}
STEPS=${STEPS:-2000}
SHARDS=${SHARDS:-data/corpus/shards}
mkdir -p "$W" "$OUT"
export PYTHONUNBUFFERED=1
train_args=(--preset laptop --vocab 16384 --data "$W/tokens/train.bin" --steps "$STEPS" --batch-size 64
            --seq-len 1024 --lr 1e-3 --warmup-steps 100 --dtype bfloat16 --log-every 25 --seed 1)

case "$1" in
prep)
  python3 models/scripts/train_tokenizer.py --vocab 16384 --out "$W/tokenizer.json" "$SHARDS"/train/*.jsonl.xz
  python3 models/scripts/prepare_tokens.py --tokenizer "$W/tokenizer.json" --shards "$SHARDS" --out "$W/tokens"
  cp "$W/tokenizer.json" "$W/tokens/tokens.json" "$OUT/"
  ;;
train)
  CUDA_VISIBLE_DEVICES=0 setsid nohup python3 models/scripts/train.py "${train_args[@]}" --out "$W/ultramem" \
    > "$W/ultramem.log" 2>&1 < /dev/null &
  CUDA_VISIBLE_DEVICES=1 setsid nohup python3 models/scripts/train.py "${train_args[@]}" --twin dense --out "$W/dense" \
    > "$W/dense.log" 2>&1 < /dev/null &
  CUDA_VISIBLE_DEVICES=2,3 setsid nohup torchrun --standalone --nproc_per_node 2 models/scripts/train.py \
    "${train_args[@]}" --twin moe --out "$W/moe" > "$W/moe.log" 2>&1 < /dev/null &
  sleep "${WAIT_S:-500}"
  tail -n 2 "$W"/*.log
  ;;
finish)
  for run in ultramem dense moe; do
    while [ ! -f "$W/$run/ckpt.pt" ] || pgrep -f "out $W/$run" > /dev/null; do
      if grep -q Traceback "$W/$run.log"; then tail -n 30 "$W/$run.log"; exit 1; fi
      sleep 10
    done
  done
  python3 models/scripts/eval_loss.py --tokens "$W/tokens" --out "$W/val_loss.json" \
    "$W/ultramem/ckpt.pt" "$W/dense/ckpt.pt" "$W/moe/ckpt.pt"
  python3 models/scripts/export.py --checkpoint "$W/ultramem/ckpt.pt" --tokenizer "$W/tokenizer.json" \
    --out "$W/folder" --name ultramem-code-s --display-name "UltraMem code S (laptop)" \
    --description "UltraMem code model sized for a 2-core laptop: 7M activated MACs/token, 45M parameters"
  split -b 15m -d "$W/folder/model.onnx" "$OUT/model.onnx.part"
  tar czf "$OUT/results.tgz" -C "$W" val_loss.json tokens/tokens.json ultramem/metrics.jsonl dense/metrics.jsonl \
    moe/metrics.jsonl ultramem.log dense.log moe.log folder/manifest.json folder/config.json
  cp "$W/folder/tokenizer.json" "$OUT/"
  ls -la "$OUT"
  ;;
*)
  echo "usage: $0 prep|train|finish" >&2
  exit 2
  ;;
esac
