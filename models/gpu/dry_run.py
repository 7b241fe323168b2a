"""A dry run of gpu_run.sh's phases on a CPU machine, in minutes: tiny models of each run (a runs file of its own,
UM_RUNS), two train shards and held-out shards made of this repository's code, staged by stage_gpu_part.sh into
data/gpu as for a device call, then the phases in the order of a real run, each checked for its exit status and
what it leaves behind. The state goes to --work (UM_WORK), never /tmp/um.

Usage (repository root, a python3 with torch): python3 -m models.gpu.dry_run [--work /tmp/um-dry] [--phases ...]
Not covered: ddp (torchrun; Debian's torch 1.13 torchrun fails on Python 3.11), study (hours of laptop-size runs)
and sitecorpus (tests/test_corpus_sitecorpus.py builds one).
"""
import argparse
import glob
import json
import lzma
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = dict(architecture="ultramem", vocab_size=16384, n_layer=2, d_model=64, n_head=4, n_kv_head=2, ffn_hidden=128,
            context_length=256, memory=dict(placement="0:1", n_keys=16, expansion=4, key_dim=16, value_dim=32, topk=8))
# phase, extra environment, the files it must leave under the work folder (relative)[, what its output must say]
PHASES = [
    ("stage 1", {}, []),
    ("part 1", {}, ["tokenizer.json", "shards/part1/train", "evals"]),   # tokenizes in the background
    ("stage 2 heldout", {}, []),
    ("part 2", {}, ["shards/part2/train", "shards/heldout"]),
    ("stage 3", {}, []),   # a corrupt shard: its tokenizer dies, and train goes on without it, saying so
    ("part 3", {}, ["shards/part3/train"]),
    ("probe", {}, ["tokens/part1/tokens.json", "probe.json"]),
    ("train", {"STEPS": "4"}, [], "training without part3"),
    ("watch", {"WAIT_S": "30"}, [], "ultramem.log: "),   # a wait that keeps the lease's call in flight
    ("export", {}, ["folders/ultramem/manifest.json", "folders/moe/manifest.json"]),
    ("finish", {}, ["tokens/part2/tokens.json", "tokens/heldout/tokens.json", "val_loss.json"]),
    ("collect", {}, ["out/results.tgz", "out/tokenizer.json"]),
    ("model", {}, ["out/model.onnx.part00"]),
    ("ckpt", {}, ["out/parts.json"]),
    ("stage ckpt", {}, []),
    ("resume", {}, ["resume/ultramem/parts.json"]),
    # the same parts as the start of a deeper run (growth from a float checkpoint)
    ("stage ckpt", {}, []),
    ("resume", {"GROW_FROM": "ultramem"}, ["init/ultramem/parts.json"]),
    ("train", {"RUN_LIST": "grown", "GPU_MAP": "grown:0", "GROW_FROM": "ultramem", "STEPS": "2"}, []),
    ("startloss", {"WAIT_S": "300"}, ["val_loss_start.json"]),
    ("finish", {"RUN_LIST": "grown", "GROW_FROM": "ultramem"}, ["grown/ckpt.pt", "folders/grown/manifest.json"]),
    ("stage init", {"INIT_FOLDER": "models/tiny-fixture"}, []),
    ("init", {"INIT_FOLDER": "models/tiny-fixture"}, ["init/ultramem/model.onnx", "init/ultramem/manifest.json"]),
]


def write_shard(path, files, lang):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with lzma.open(path, "wt", encoding="utf-8") as f:
        for name in files:
            f.write(json.dumps({"text": open(os.path.join(ROOT, name)).read(), "lang": lang, "source": "npm",
                                "package": name.split("/")[1], "path": name, "license": "MIT"}) + "\n")


def make_inputs(work: str) -> dict:
    """Shards (train/, heldout/) of this repository's code, a tiny config per run, and the runs file naming them."""
    dry = os.path.join(work, "dry")
    code = lambda pattern: sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, pattern)))
    python, ts = code("models/ultramem/*.py"), code("src/worker/*.ts")
    write_shard(f"{dry}/shards/train/train-00000.jsonl.xz", python[:6] + ts[:3], "python")
    write_shard(f"{dry}/shards/train/train-00001.jsonl.xz", python[6:12] + ts[3:6], "python")
    with open(f"{dry}/shards/train/train-00002.jsonl.xz", "wb") as f:
        f.write(b"not xz")
    write_shard(f"{dry}/shards/heldout/python-00000.jsonl.xz", code("models/corpus/*.py")[:3], "python")
    write_shard(f"{dry}/shards/heldout/typescript-00000.jsonl.xz", code("src/completion/*.ts")[:3], "typescript")
    pkm = json.loads(json.dumps(TINY))
    pkm["memory"].update(retrieval="pkm", tucker_rank=1, mcs_cores=1)
    for name, cfg in (("tiny", TINY), ("tiny-pkm", pkm), ("tiny-grown", {**TINY, "n_layer": 3})):
        json.dump(cfg, open(f"{dry}/{name}.json", "w"), indent=1)
    runs = {"ultramem": ["--config", f"{dry}/tiny.json"], "dense": ["--config", f"{dry}/tiny.json", "--twin", "dense"],
            "moe": ["--config", f"{dry}/tiny.json", "--twin", "moe", "--experts", "4"],
            "pkm": ["--config", f"{dry}/tiny-pkm.json"], "grown": ["--config", f"{dry}/tiny-grown.json"]}
    json.dump({run: {"train": flags, "export": {"name": f"dry-{run}", "display_name": f"Dry run {run}"}}
               for run, flags in runs.items()}, open(f"{dry}/runs.json", "w"), indent=1)
    # gpu_run.sh calls python3: the one running this
    os.makedirs(f"{dry}/bin", exist_ok=True)
    if not os.path.exists(f"{dry}/bin/python3"):
        os.symlink(sys.executable, f"{dry}/bin/python3")
    return {"UM_WORK": work, "UM_RUNS": f"{dry}/runs.json", "SHARDS": f"{dry}/shards",
            "PATH": f"{dry}/bin:" + os.environ["PATH"], "TOKENIZER": "models/ultramem-code-s/tokenizer.json",
            "SMOKE": "0", "WAIT_S": "1", "BATCH": "2", "SEQ_LEN": "128", "CKPT_PARTS": f"{work}/ckptparts/ultramem",
            # the FIM evaluation for a second per model and order, on two workers
            "EVAL_WORKERS": "2", "PER_LANG": "1", "LIMIT": "4", "DEADLINE": "1", "PSM_DEADLINE": "1"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "um-dry"))
    ap.add_argument("--phases", help="comma-separated, of: " + ", ".join(p[0] for p in PHASES) +
                    " (default all, from a clean work folder; named phases go on from the state there)")
    args = ap.parse_args()
    staged = os.path.join(ROOT, "data", "gpu")
    assert not os.path.exists(staged), f"{staged} holds a staged call: move it away first (the dry run stages there)"
    if not args.phases:
        shutil.rmtree(args.work, ignore_errors=True)
    env = {**os.environ, **make_inputs(args.work)}
    wanted = args.phases.split(",") if args.phases else [p[0] for p in PHASES]
    try:
        for phase, extra, leaves, *says in PHASES:
            if phase not in wanted:
                continue
            words = phase.split()
            script = "stage_gpu_part.sh" if words[0] == "stage" else "gpu_run.sh"
            cmd = ["bash", f"models/gpu/{script}", *(words[1:] if words[0] == "stage" else words)]
            t0 = time.time()
            proc = subprocess.run(cmd, cwd=ROOT, env={**env, **extra}, capture_output=True, text=True)
            tail = "\n    ".join((proc.stdout + proc.stderr).strip().splitlines()[-4:])
            print(f"{phase}: exit {proc.returncode}, {time.time() - t0:.0f} s\n    {tail}", flush=True)
            missing = [f for f in leaves if not os.path.exists(os.path.join(args.work, f))]
            assert proc.returncode == 0 and not missing, f"{phase} failed (missing: {missing})"
            assert all(s in proc.stdout for s in says), f"{phase} did not say {says}"
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    print(f"dry run: every phase passed; state in {args.work}")


if __name__ == "__main__":
    main()
