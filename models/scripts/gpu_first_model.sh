#!/usr/bin/env bash
# The first-model run on the GPU machine (4 x H200), in three phases, one device call each, state in /tmp/um:
#   prep    train the tokenizer on the train shards, tokenize train (FIM) and held-out (plain) data
#   train   start the UltraMem, dense-twin and MoE-twin runs in the background on the GPUs named by UM_GPUS,
#           DENSE_GPUS and MOE_GPUS (an empty list skips that run; several GPUs run DDP), with the same global
#           batch, data order and step count; wait while they run
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
  start_run() {  # name, GPU list, extra train.py flags
    local name=$1 gpus=$2
    shift 2
    [ -n "$gpus" ] || return 0
    local n=$(( $(tr -cd , <<< "$gpus" | wc -c) + 1 ))
    CUDA_VISIBLE_DEVICES=$gpus setsid nohup torchrun --standalone --master-port $((29500 + RANDOM % 1000)) \
      --nproc_per_node "$n" models/scripts/train.py "${train_args[@]}" "$@" --out "$W/$name" \
      > "$W/$name.log" 2>&1 < /dev/null &
  }
  start_run ultramem "${UM_GPUS-0}"
  start_run dense "${DENSE_GPUS-1}" --twin dense
  start_run moe "${MOE_GPUS-2,3}" --twin moe
  sleep "${WAIT_S:-500}"
  tail -n 2 "$W"/*.log
  ;;
finish)
  runs=()
  for run in ultramem dense moe; do [ -f "$W/$run.log" ] && runs+=("$run"); done
  for run in "${runs[@]}"; do
    while [ ! -f "$W/$run/ckpt.pt" ] || pgrep -f "out $W/$run" > /dev/null; do
      if grep -q Traceback "$W/$run.log"; then tail -n 30 "$W/$run.log"; exit 1; fi
      sleep 10
    done
  done
  ckpts=() dirs=()
  for run in "${runs[@]}"; do ckpts+=("$W/$run/ckpt.pt"); dirs+=("$W/$run"); done
  python3 models/scripts/eval_loss.py --tokens "$W/tokens" --out "$W/val_loss.json" "${ckpts[@]}"
  python3 models/scripts/plot_losses.py --out "$OUT/loss_curves.png" "${dirs[@]}"
  python3 models/scripts/export.py --checkpoint "$W/ultramem/ckpt.pt" --tokenizer "$W/tokenizer.json" \
    --out "$W/folder" --name ultramem-code-s --display-name "UltraMem code S (laptop)" \
    --description "UltraMem code model sized for a 2-core laptop: 7M activated MACs/token, 45M parameters"
  split -b 15m -d "$W/folder/model.onnx" "$OUT/model.onnx.part"
  tar czf "$OUT/results.tgz" -C "$W" val_loss.json tokens/tokens.json folder/manifest.json folder/config.json \
    "${runs[@]/%//metrics.jsonl}" "${runs[@]/%/.log}"
  cp "$W/folder/tokenizer.json" "$OUT/"
  ls -la "$OUT"
  ;;
*)
  echo "usage: $0 prep|train|finish" >&2
  exit 2
  ;;
esac
