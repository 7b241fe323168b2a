#!/usr/bin/env bash
# The model run on the GPU machine (4 x H200, nvidia-h200-x4), one device call per phase, state in /tmp/um, run back
# to back so the machine stays held. Usage (repository root): bash models/gpu/gpu_run.sh PHASE [N]
#   part N   the train shard carried in data/gpu/train/ goes to /tmp/um/shards/partN (and ../shared/evals, carried
#            in data/gpu/evals with part 1); part 1 also trains the tokenizer on its shard (or copies TOKENIZER, a
#            path in the repository) and, with SMOKE=1 (the default), runs the GPU tests. Each part is then
#            tokenized (FIM) in the background, and so are the held-out shards when data/gpu/heldout came along.
#   init     the model folder INIT_FOLDER (default models/ultramem-code-s), its graph carried xz-compressed in
#            data/gpu/init/ (stage_gpu_part.sh init), goes to /tmp/um/init/INIT_RUN (default ultramem): that run
#            then continues from its weights (train.py --init-from; INIT_RUN=grown20 for the shipped 20-block shape,
#            whose float parts are lost), and finish measures it next to the run
#   sitecorpus  after the last part call (every train shard and the held-out ones are here): a second corpus from
#            this machine's own installed sources (every site-packages, /usr/include; models/corpus/sitecorpus.py,
#            deduplicated against the carried shards, decontaminated against the evals) into $W/shards/site in the
#            background, then tokenized into $W/tokens/partsite, which train's tokens/part* globs take (train waits
#            for it like for a part); SITECORPUS_FLAGS adds options (--dists, --site-dir); waits WAIT_S seconds.
#            Called again, it only shows how far it got, and once built, brings its manifest back in $OUT
#   probe    once part 1 is tokenized: 40 steps of each run, one per GPU, for its tokens/s
#   train    waits for every part's tokens; STEPS (or, if unset, what the slowest probed run does in TRAIN_S
#            seconds) steps for UltraMem, the dense twin, the MoE twin and the PKM ablation, one per GPU, same data
#            order and batch; waits WAIT_S seconds. FIT_S fits the schedule to that many seconds of training instead
#            (STEPS is then only a cap); GROW_FROM=ultramem grows the init phase's model into each run's config
#            (train.py --grow; the run `grown` is models/study/runs/grown.json); BATCH sequences per step
#   startloss  the held-out loss of the carried starting points (resume/*, init/*) in the background while a run
#            trains (the GPU has room for it), into $W/val_loss_start.json (finish then leaves them out of its own
#            val_loss.json, and collect packs both); waits up to WAIT_S seconds for it and prints it (called
#            again, it only waits)
#   export   exports the model folders of the runs in RUN_LIST as each finishes, while others still train
#   finish   the held-out shards, if carried now in data/gpu/heldout/ (the corpus build packs them last), are
#            tokenized, else it waits for their tokens from a part call; waits for the runs; validation loss per
#            language; exports the model folders not exported yet; tokenizer parity samples (the FIM evaluation
#            runs on the workstation, through the extension: models/README.md step 4b)
#   collect  packs metrics, logs, losses and plots into $OUT
#   model    the graph of MODEL_RUN (default ultramem) in 15 MiB parts into $OUT (joined here with cat)
#   ddp      like train, but the first run of RUN_LIST alone, data-parallel over every GPU (torchrun; the global batch
#            BATCH is split over the GPUs, the data order is the one-GPU order); MAX_S caps its training time (a
#            checkpoint follows, for the ckpt and resume phases)
#   study    the scaling study (models/study/scaling.json, study.py) in the background on every GPU, PER_GPU runs
#            at a time on each (default 2: an 8-block run at batch 32 x 2,048 takes about 30 GB, and three ran out
#            of memory on an 80 GB H100): STUDY_GROUPS (comma-separated, default all), STUDY_TOKENS per run; waits WAIT_S
#   study-collect  waits for the study; its table, plot, study.json, metrics and logs into $OUT
#   watch    keeps the call in flight for WAIT_S seconds (default 540), printing the runs' and the study's last log
#            lines every 30 s: the machine goes back 30 s after a call returns, whatever runs in the background
#            (2026-12-06: a lease and its staged state lost to a two-minute pause between calls), so every wait of a
#            lease is a call
#   ckpt     run CKPT_RUN's checkpoint (default ultramem) in 15 MiB parts (CKPT_FLAGS, default weights only in bf16),
#            4 parts per call from PART_FROM (0, 4, 8, ...) into $OUT with parts.json (a call brings back 64 MiB)
#   resume   checkpoint parts carried in data/gpu/ckpt (stage_gpu_part.sh ckpt, as many calls as it takes) go to
#            /tmp/um/resume/RESUME_RUN; the train phase then continues that run from them (train.py --resume); with
#            GROW_FROM=NAME they go to /tmp/um/init/NAME instead, and the train phase grows them into each run's config
# The runs are data: models/gpu/runs.json holds each run's training flags and model-folder names, read by
# models/gpu/phases.py with the phases' other Python steps. Dry run of the phases on a CPU machine (tiny models,
# minutes): python3 -m models.gpu.dry_run, which sets UM_WORK, UM_RUNS (its runs file) and SEQ_LEN.
set -euo pipefail
W=${UM_WORK:-/tmp/um}   # UM_WORK: another folder (the dry run's)
OUT=${OUT:-$W/out}
mkdir -p "$W" "$OUT"
export PYTHONUNBUFFERED=1
read -r -a RUNS <<< "${RUN_LIST:-ultramem dense moe pkm}"   # RUN_LIST drops runs (e.g. the ablation)
# windows of the full context (2,048): prompts of 1,024 tokens plus the completion reach past 1,024, which
# 1,024-token training never showed the model (RoPE positions it never saw)
# GPU of each run: one each on 4 GPUs; the third run, on 2, used RUN_LIST='ultramem dense moe' and
# GPU_MAP='ultramem:0 dense:1 moe:1' (UltraMem trains slowest, so it gets a GPU of its own)
GPU_MAP=${GPU_MAP:-ultramem:0 dense:1 moe:2 pkm:3}
gpu_of() { tr ' ' '\n' <<< "$GPU_MAP" | sed -n "s/^$1://p"; }
flags_of() {  # train|export RUN: the run's flags (models/gpu/runs.json, read by phases.py) into the array FLAGS
  local text
  text=$(python3 -m models.gpu.phases "$1" "$2")
  FLAGS=()
  [ -z "$text" ] || mapfile -t FLAGS <<< "$text"
}
# COMPILE=1 adds torch.compile (measure it with the probe phase first: its tokens/s and MFU are in the probe logs)
common=(--vocab 16384 --batch-size "${BATCH:-32}" --seq-len "${SEQ_LEN:-2048}" --fit-seconds "${FIT_S:-0}" --lr "${LR:-1e-3}" --warmup-steps "${WARMUP:-100}" --dtype bfloat16
        --seed "${SEED:-1}" "--$([ "${COMPILE:-0}" = 1 ] || echo no-)compile")
init_flags() {  # a run continued from a carried model folder (init phase): its weights, and the value tables' lr
  # multiplier (models/ARCHITECTURE.md, "Value-table learning rate") at VALUE_LR_MULT, since the tables are
  # trained already; or resumed from carried checkpoint parts (resume phase) on its own schedule
  if [ -f "$W/resume/$1/parts.json" ]; then echo "--resume $W/resume/$1"; return; fi
  if [ -d "$W/init/$1" ]; then echo "--init-from $W/init/$1 --value-lr-mult ${VALUE_LR_MULT:-1}"
  elif [ -n "${GROW_FROM:-}" ]; then echo "--init-from $W/init/$GROW_FROM --grow --value-lr-mult ${VALUE_LR_MULT:-1}"; fi
}
take_heldout() {  # the carried held-out shards -> $W/shards/heldout (prepare_tokens reads <shards>/heldout)
  mkdir -p "$W/shards/heldout_only" "$W/tokens/heldout"
  rm -rf "$W/shards/heldout_only/heldout" && mv data/gpu/heldout "$W/shards/heldout_only/heldout"
  ln -sfn "$W/shards/heldout_only/heldout" "$W/shards/heldout"
}
heldout_tokens=(python3 -m models.scripts.prepare_tokens --tokenizer "$W/tokenizer.json"
                --shards "$W/shards/heldout_only" --out "$W/tokens/heldout")
export_run() {  # run name -> its model folder in $W/folders (once: the export phase may have made it already)
  [ ! -f "$W/folders/$1/manifest.json" ] || return 0
  flags_of export "$1"
  python3 -m models.scripts.export --checkpoint "$W/$1/ckpt.pt" --tokenizer "$W/tokenizer.json" \
    --out "$W/folders/$1" --fim-template "${FIM_TEMPLATE:-spm}" "${FLAGS[@]}" > "$W/export_$1.log" 2>&1
}
# the background jobs run from a copy of the Python code (env -C "$CODE"), made once per call: each device call syncs
# the working tree anew, and a job that imports a module while that happens dies (2026-12-06: part 11's tokenizer,
# "No module named 'models.ultramem.memory'", and the train call then waited 400 s for its tokens)
CODE=$W/code/$$
mkdir -p "$CODE" && tar --exclude='*.onnx' --exclude=__pycache__ --exclude=models/logs -cf - models | tar -xf - -C "$CODE"
tokens_of() {  # part name: waits for its tokens; fails at once (with its log's tail) if the job writing them has ended
  local t=0
  until [ -f "$W/tokens/$1/tokens.json" ]; do
    if ! pgrep -f -- "--out $W/tokens/$1 --seed" > /dev/null; then
      sleep 2; [ -f "$W/tokens/$1/tokens.json" ] && return 0
      echo "no tokens for $1: its job ended without them"; tail -n 3 "$W/tokens/$1.log"; return 1
    fi
    [ "$t" -gt 0 ] || echo "waiting for $1's tokens"
    sleep 5; t=$((t + 5)); [ "$t" -lt 400 ] || { echo "timed out waiting for $1's tokens"; return 1; }
  done
}
wait_for() {  # file, seconds
  local t=0
  until [ -f "$1" ]; do sleep 5; t=$((t + 5)); [ "$t" -lt "$2" ] || { echo "timed out waiting for $1"; exit 1; }; done
}

case "$1" in
part)
  n=$2
  mkdir -p "$W/shards/part$n/train"
  mv data/gpu/train/*.jsonl.xz "$W/shards/part$n/train/"
  if [ -d data/gpu/evals ]; then rm -rf "$W/evals" && mv data/gpu/evals "$W/evals"; fi
  if [ "$n" = 1 ]; then
    nvidia-smi --query-gpu=name,memory.total --format=csv || true
    python3 -m models.gpu.phases versions || true
    if [ -n "${TOKENIZER:-}" ]; then
      cp "$TOKENIZER" "$W/tokenizer.json"
    else
      time python3 -m models.scripts.train_tokenizer --vocab 16384 --out "$W/tokenizer.json" "$W"/shards/part1/train/*.jsonl.xz
    fi
    if [ "${SMOKE:-1}" = 1 ]; then
      (cd models && timeout 120 python3 -m pytest -q -x -s tests/test_model.py -k moe 2>&1 | tail -8) || true
    fi
  fi
  wait_for "$W/tokenizer.json" 300
  mkdir -p "$W/tokens/part$n"
  setsid nohup env -C "$CODE" python3 -m models.scripts.prepare_tokens --tokenizer "$W/tokenizer.json" --shards "$W/shards/part$n" \
    --out "$W/tokens/part$n" --seed "$n" > "$W/tokens/part$n.log" 2>&1 < /dev/null &
  if [ -d data/gpu/heldout ]; then
    take_heldout
    setsid nohup env -C "$CODE" "${heldout_tokens[@]}" > "$W/tokens/heldout.log" 2>&1 < /dev/null &
  fi
  sleep "${WAIT_S:-5}"
  ls -la "$W/shards/part$n/train" "$W/tokens"
  ;;
init)
  d=$W/init/${INIT_RUN:-ultramem}
  mkdir -p "$d"
  folder=${INIT_FOLDER:-models/ultramem-code-s}
  cp "$folder/config.json" "$folder/tokenizer.json" "$d/"
  xz -dc data/gpu/init/model.onnx.xz > "$d/model.onnx"
  python3 -m models.gpu.phases start-manifest "$folder/manifest.json" "$d/manifest.json"
  python3 -m models.gpu.phases parameters "$d"
  ;;
sitecorpus)   # models/corpus/README.md, "The site corpus"
  if ! pgrep -f "$W/shards/site " > /dev/null && [ ! -f "$W/tokens/partsite/tokens.json" ]; then
    [ -d "$W/shards/heldout" ] && [ -d "$W/evals" ] || { echo "carry every part and the held-out shards first"; exit 1; }
    wait_for "$W/tokenizer.json" 300
    setsid nohup env -C "$CODE" bash -c "nice -n 10 python3 -m models.corpus.sitecorpus --out $W/shards/site --work $W/sitecorpus \
        --evals $W/evals --carried '$W/shards/part*/train/*.jsonl.xz' --carried '$W/shards/heldout/*.jsonl.xz' \
        ${SITECORPUS_FLAGS:-} &&
      python3 -m models.scripts.prepare_tokens --tokenizer $W/tokenizer.json --shards $W/shards/site \
        --out $W/tokens/partsite --seed 99" > "$W/tokens/partsite.log" 2>&1 < /dev/null &
  fi
  sleep "${WAIT_S:-60}"
  tail -n 4 "$W/tokens/partsite.log"
  [ ! -f "$W/shards/site/manifest.json" ] || cp "$W/shards/site/manifest.json" "$OUT/sitecorpus_manifest.json"
  ;;
probe)
  wait_for "$W/tokens/part1/tokens.json" 400
  for r in "${RUNS[@]}"; do
    flags_of train "$r"
    CUDA_VISIBLE_DEVICES=$(gpu_of "$r") python3 -m models.scripts.train "${FLAGS[@]}" "${common[@]}" --steps 40 \
      --log-every 10 --data "$W/tokens/part1/train.bin" --out "$W/probe/$r" > "$W/probe_$r.log" 2>&1 &
  done
  wait
  python3 -m models.gpu.phases probe-rates "$W" "${RUNS[@]}" | tee "$W/probe.json"
  ;;
train)
  # the carried parts are waited for; the site corpus only SITE_WAIT_S seconds (it is built here and may be slow):
  # if its tokens are not ready by then, the run trains without it (a half-written train.bin is never read); a part
  # whose tokenizer died is left out, said so, rather than blocking the call
  data=()
  for f in "$W"/tokens/part*.log; do
    p=$(basename "$f" .log)
    if [ "$p" = partsite ] && [ -n "${SITE_WAIT_S:-}" ]; then
      t=0
      while [ ! -f "$W/tokens/$p/tokens.json" ] && [ "$t" -lt "$SITE_WAIT_S" ]; do sleep 5; t=$((t + 5)); done
      [ -f "$W/tokens/$p/tokens.json" ] || { echo "site corpus not ready after ${SITE_WAIT_S}s: training without it"; continue; }
    fi
    tokens_of "$p" || { echo "training without $p"; continue; }
    data+=("$W/tokens/$p/train.bin")
  done
  summaries=$(cat "$W"/tokens/part*/tokens.json)
  echo "${summaries:0:3000}"
  [ -n "${STEPS:-}" ] || STEPS=$(python3 -m models.gpu.phases steps "$W/probe.json" "${TRAIN_S:-480}")
  echo "steps: $STEPS"
  for r in "${RUNS[@]}"; do
    flags_of train "$r"
    # shellcheck disable=SC2046
    CUDA_VISIBLE_DEVICES=$(gpu_of "$r") setsid nohup env -C "$CODE" python3 -m models.scripts.train "${FLAGS[@]}" "${common[@]}" \
      $(init_flags "$r") --steps "$STEPS" --log-every 25 --data "${data[@]}" --out "$W/$r" > "$W/$r.log" 2>&1 < /dev/null &
  done
  sleep "${WAIT_S:-500}"
  tail -n 2 "$W"/*.log
  ;;
ddp)
  for f in "$W"/tokens/part*.log; do tokens_of "$(basename "$f" .log)" || exit 1; done
  r=${RUNS[0]}
  n=$(python3 -m models.gpu.phases gpus --count)
  flags_of train "$r"
  # shellcheck disable=SC2046
  setsid nohup env -C "$CODE" torchrun --standalone --nproc_per_node "$n" -m models.scripts.train "${FLAGS[@]}" "${common[@]}" \
    $(init_flags "$r") --batch-size "${BATCH:-32}" --steps "${STEPS:?ddp needs STEPS (the length of the whole run)}" --max-seconds "${MAX_S:-0}" --log-every 25 \
    --health-every 500 --data "$W"/tokens/part*/train.bin --out "$W/$r" > "$W/$r.log" 2>&1 < /dev/null &
  sleep "${WAIT_S:-500}"
  tail -n 2 "$W/$r.log"
  ;;
startloss)
  dirs=()
  for d in "$W"/resume/* "$W"/init/*; do   # checkpoint parts, or a model folder from the init phase
    [ ! -f "$d/parts.json" ] && [ ! -f "$d/manifest.json" ] || dirs+=("$d")
  done
  [ "${#dirs[@]}" -gt 0 ] || { echo "no carried starting point (resume or init phase first)"; exit 1; }
  if [ ! -f "$W/val_loss_start.json" ] && ! pgrep -f "out $W/val_loss_start.json" > /dev/null; then
    wait_for "$W/tokens/heldout/tokens.json" 300
    setsid nohup env -C "$CODE" python3 -m models.scripts.eval_loss --tokens "$W/tokens/heldout" --out "$W/val_loss_start.json" \
      "${dirs[@]}" > "$W/val_loss_start.log" 2>&1 < /dev/null &
  fi
  t=0
  while [ ! -f "$W/val_loss_start.json" ] && [ "$t" -lt "${WAIT_S:-5}" ]; do sleep 5; t=$((t + 5)); done
  cat "$W/val_loss_start.json" 2>/dev/null || tail -n 3 "$W/val_loss_start.log"
  ;;
export)   # the model folders of the finished runs in RUN_LIST, while others still train
  for r in "${RUNS[@]}"; do wait_for "$W/$r/ckpt.pt" 600; export_run "$r" & done
  wait
  tail -n 2 "$W"/export_*.log
  ;;
finish)
  if [ -d data/gpu/heldout ]; then
    take_heldout
    "${heldout_tokens[@]}" > "$W/tokens/heldout.log" 2>&1
  fi
  wait_for "$W/tokens/heldout/tokens.json" 300
  for r in "${RUNS[@]}"; do
    while [ ! -f "$W/$r/ckpt.pt" ] || pgrep -f "out $W/$r\$" > /dev/null; do
      if grep -q Traceback "$W/$r.log"; then tail -n 30 "$W/$r.log"; exit 1; fi
      sleep 5
    done
  done
  for r in "${RUNS[@]}"; do tail -n 1 "$W/$r.log"; done
  ckpts=()
  for r in "${RUNS[@]}"; do ckpts+=("$W/$r/ckpt.pt"); done
  if [ ! -f "$W/val_loss_start.json" ]; then   # the startloss phase measured where the runs started already
    for r in "${RUNS[@]}"; do [ ! -d "$W/init/$r" ] || ckpts+=("$W/init/$r"); done   # where continued runs started
    for r in "${RUNS[@]}"; do [ ! -f "$W/resume/$r/parts.json" ] || ckpts+=("$W/resume/$r"); done  # resumed ones
    [ -z "${GROW_FROM:-}" ] || ckpts+=("$W/init/$GROW_FROM")                           # where grown runs started
  fi
  python3 -m models.scripts.eval_loss --tokens "$W/tokens/heldout" --out "$W/val_loss.json" "${ckpts[@]}" &
  for r in "${RUNS[@]}"; do export_run "$r" & done
  python3 -m models.scripts.tokenizer_parity --tokenizer "$W/tokenizer.json" --heldout "$W/shards/heldout" \
    --out "$W/tokenizer_parity.json" || echo "tokenizer parity samples failed (needs Python tokenizers)"
  wait
  tail -n 3 "$W"/export_*.log
  cat "$W/val_loss.json"
  ;;
collect)
  dirs=()
  for r in "${RUNS[@]}"; do dirs+=("$W/$r"); done
  python3 -m models.scripts.plot_losses --out "$OUT/loss_curves.png" "${dirs[@]}" || echo "no loss plot (needs matplotlib)"
  cd "$W"
  optional=()   # the probe and the tokenizer parity samples are skipped in some runs
  for f in probe.json tokenizer_parity.json val_loss_start.json; do [ ! -f "$f" ] || optional+=("$f"); done
  tar czf "$OUT/results.tgz" val_loss.json "${optional[@]}" tokens/*/tokens.json \
    folders/*/manifest.json folders/*/config.json export_*.log \
    "${RUNS[@]/%//metrics.jsonl}" "${RUNS[@]/%//config.json}" "${RUNS[@]/%/.log}"
  cp tokenizer.json "$OUT/"
  ls -la "$OUT"
  ;;
model)
  split -b 15m -d "$W/folders/${MODEL_RUN:-ultramem}/model.onnx" "$OUT/model.onnx.part"
  ls -la "$OUT"
  ;;
study)
  wait_for "$W/tokens/heldout/tokens.json" 300
  for f in "$W"/tokens/part*.log; do tokens_of "$(basename "$f" .log)" || exit 1; done
  gpus=$(python3 -m models.gpu.phases gpus)
  groups=()
  [ -z "${STUDY_GROUPS:-}" ] || groups=(--groups "$STUDY_GROUPS")
  setsid nohup env -C "$CODE" python3 -m models.scripts.study run --plan models/study/scaling.json "${groups[@]}" \
    --tokens "${STUDY_TOKENS:-40e6}" --data "$W"/tokens/part*/train.bin --heldout "$W/tokens/heldout" \
    --out "$W/study" --gpus "$gpus" --per-gpu "${PER_GPU:-2}" > "$W/study.log" 2>&1 < /dev/null &
  sleep "${WAIT_S:-500}"
  tail -n 5 "$W/study.log"; tail -qn 1 "$W"/study/*/metrics.jsonl 2>/dev/null | cut -c1-200
  ;;
study-collect)
  while pgrep -f models.scripts.study > /dev/null; do sleep 5; done
  groups=()
  [ -z "${STUDY_GROUPS:-}" ] || groups=(--groups "$STUDY_GROUPS")
  python3 -m models.scripts.study report --plan models/study/scaling.json "${groups[@]}" --out "$W/study" \
    --plot "$OUT/study.png" | tee "$OUT/study.md"
  (cd "$W" && tar czf "$OUT/study.tgz" study.log study/study.json study/val_loss.json study/*/metrics.jsonl \
    study/*/config.json study/*/train.log)
  ls -la "$OUT"
  ;;
watch)
  t=0
  while [ "$t" -lt "${WAIT_S:-540}" ]; do
    sleep 30; t=$((t + 30))
    echo "--- ${t}s"
    for f in "$W"/*.log; do [ ! -f "$f" ] || echo "$(basename "$f"): $(tail -n 1 "$f" | cut -c1-160)"; done
    tail -qn 1 "$W"/study/*/metrics.jsonl 2>/dev/null | cut -c1-120 || true
  done
  ;;
ckpt)
  parts=$W/ckptparts/${CKPT_RUN:-ultramem}
  # shellcheck disable=SC2086
  [ -f "$parts/parts.json" ] || python3 -m models.scripts.checkpoint_parts split "$W/${CKPT_RUN:-ultramem}/ckpt.pt" \
    "$parts" ${CKPT_FLAGS:---weights-only --bf16}
  cp "$parts/parts.json" "$OUT/"
  ls "$parts" | grep '\.part' | sed -n "$((${PART_FROM:-0} + 1)),$((${PART_FROM:-0} + 4))p" | while read -r f; do
    cp "$parts/$f" "$OUT/"; done
  ls -la "$OUT"
  ;;
resume)
  # with GROW_FROM the parts are where grown runs start ($W/init/$GROW_FROM: train.py --init-from reads parts)
  d=$W/resume/${RESUME_RUN:-ultramem}
  [ -z "${GROW_FROM:-}" ] || d=$W/init/$GROW_FROM
  mkdir -p "$d"
  mv data/gpu/ckpt/* "$d/"
  ls -la "$d"
  ;;
*)
  echo "usage: $0 part N|init|sitecorpus|probe|train|startloss|export|finish|collect|model|study|study-collect|watch|ckpt|resume" >&2
  exit 2
  ;;
esac
