"""The Python steps of gpu_run.sh's phases, and the runs it trains, read from runs.json beside it.

runs.json maps a run name to its `train` flags (models/scripts/train.py: a preset, twin, or --config) and the
`export` fields of its model folder (name, display_name, optional description); UM_RUNS names another file. A run not listed there trains the
config models/study/runs/<run>.json and exports under its own name. Every command prints what the script reads:
  train RUN | export RUN     the run's flags for models.scripts.train / models.scripts.export, one per line
  probe-rates WORK RUN...    tokens/s of each probe run (WORK/probe/RUN/metrics.jsonl) as JSON
  steps PROBE_JSON SECONDS   the steps the slowest probed run takes in SECONDS (65,536 tokens per step)
  start-manifest SRC DST     a copy of the manifest SRC with "-start" added to its name (the init phase's model)
  parameters FOLDER          the parameter count of a model folder imported back into PyTorch
  versions                   torch, onnxruntime and tokenizers versions and the GPU count
  gpus [--count]             this machine's GPU ids, comma-separated (or how many)
Usage (repository root): python3 -m models.gpu.phases COMMAND ...
"""
import argparse
import json
import os

# UM_RUNS: another runs file (the dry run's tiny models, dry_run.py)
RUNS = os.environ.get("UM_RUNS") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "runs.json")
TOKENS_PER_STEP = 32 * 2048   # gpu_run.sh's default batch of 32 sequences of 2,048 tokens


def run_spec(run: str) -> dict:
    runs = json.load(open(RUNS))
    if run in runs:
        return runs[run]
    config = f"models/study/runs/{run}.json"
    assert os.path.exists(config), f"run {run}: not in {RUNS} and no {config}"
    return {"train": ["--config", config], "export": {"name": run, "display_name": run}}


def export_flags(run: str) -> list:
    export = run_spec(run)["export"]
    flags = ["--name", export["name"], "--display-name", export["display_name"]]
    return flags + (["--description", export["description"]] if export.get("description") else [])


def probe_rates(work: str, runs: list) -> dict:
    rates = {}
    for run in runs:
        rows = [json.loads(line) for line in open(f"{work}/probe/{run}/metrics.jsonl")]
        a, b = rows[1], rows[-1]   # skip the first logged step (warm-up, allocator)
        rates[run] = round((b["tokens"] - a["tokens"]) / (b["elapsed_s"] - a["elapsed_s"]))
    return {"tokens_per_s": rates}


def steps_in(probe_json: str, seconds: float) -> int:
    """Whole hundreds of steps, at the slowest probed run's speed."""
    rates = json.load(open(probe_json))["tokens_per_s"]
    return int(min(rates.values()) * seconds / TOKENS_PER_STEP) // 100 * 100


def start_manifest(src: str, dst: str) -> None:
    """The starting model under its own name, so that its evaluation sits beside the new one's."""
    manifest = json.load(open(src))
    manifest["name"] += "-start"
    json.dump(manifest, open(dst, "w"), indent=2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("train").add_argument("run")
    sub.add_parser("export").add_argument("run")
    p = sub.add_parser("probe-rates")
    p.add_argument("work")
    p.add_argument("runs", nargs="+")
    p = sub.add_parser("steps")
    p.add_argument("probe_json")
    p.add_argument("seconds", type=float)
    p = sub.add_parser("start-manifest")
    p.add_argument("src")
    p.add_argument("dst")
    sub.add_parser("parameters").add_argument("folder")
    sub.add_parser("versions")
    sub.add_parser("gpus").add_argument("--count", action="store_true")
    args = ap.parse_args()
    if args.command == "train":
        print("\n".join(run_spec(args.run)["train"]))
    elif args.command == "export":
        print("\n".join(export_flags(args.run)))
    elif args.command == "probe-rates":
        print(json.dumps(probe_rates(args.work, args.runs)))
    elif args.command == "steps":
        print(steps_in(args.probe_json, args.seconds))
    elif args.command == "start-manifest":
        start_manifest(args.src, args.dst)
    elif args.command == "parameters":
        from models.ultramem.onnx_import import load_model_folder
        model = load_model_folder(args.folder)
        print(sum(p.numel() for p in model.parameters()), "parameters from", args.folder)
    elif args.command == "versions":
        import onnxruntime
        import tokenizers
        import torch
        print(torch.__version__, onnxruntime.__version__, tokenizers.__version__, torch.cuda.device_count(), "GPUs")
    elif args.command == "gpus":
        import torch
        n = torch.cuda.device_count()
        print(n if args.count else ",".join(map(str, range(n))))


if __name__ == "__main__":
    main()
