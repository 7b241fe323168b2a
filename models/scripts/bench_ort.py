"""Benchmark: the laptop UltraMem config (ultramem/presets.py) and its dense and MoE twins of equal activated compute, in ORT on this CPU.

Builds each model with random weights (timing does not depend on training), exports float32 and int8 graphs,
then times them with onnxruntime-node (scripts/bench_ort.mjs, with the extension worker's session options) at batch 1
with 1 and 2 threads:
decode ms/token after a 512-token prefill, and prefill ms for 512, 1024 and 2048 tokens. Prints a markdown table
(and writes the rows as JSON with --json, which scripts/eval_report.py reads).
Usage: python3 -m models.scripts.bench_ort [--out-dir /tmp/ultramem-bench] [--json bench.json]
"""
import argparse
import json
import os
import subprocess

import torch

from models.ultramem import Transformer, count, model_twins
from models.ultramem.presets import laptop
from models.ultramem.export import export_float
from models.ultramem.quantize import quantize_file

SCRIPTS = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", default="/tmp/ultramem-bench")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--json", help="also write the rows here")
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    um = laptop()
    dense, moe = model_twins(um, n_experts=16, top_k=2)
    rows = []
    for name, cfg in (("ultramem", um), ("dense", dense), ("moe", moe)):
        acc = count(cfg)
        print(acc.summary(name), flush=True)
        torch.manual_seed(0)
        model = Transformer(cfg).eval()
        paths = {"fp32": os.path.join(args.out_dir, f"{name}.float.onnx"),
                 "int8": os.path.join(args.out_dir, f"{name}.onnx")}
        export_float(model, paths["fp32"])
        quantize_file(paths["fp32"], paths["int8"])
        del model
        for kind, path in paths.items():
            for threads in args.threads.split(","):
                proc = subprocess.run(["node", os.path.join(SCRIPTS, "bench_ort.mjs"), path, threads,
                                       str(cfg.vocab_size)], capture_output=True, text=True)
                if proc.returncode != 0:
                    print(f"{name} {kind} {threads} threads failed: {proc.stderr[-500:]}", flush=True)
                    continue
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                rows.append((name, kind, int(threads), acc, os.path.getsize(path), r))
                print(json.dumps(r), flush=True)
    print("\n| model | weights | threads | activated MACs/token | total params | file MB | decode ms/token "
          "| prefill 512 ms | prefill 1024 ms | prefill 2048 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, kind, threads, acc, size, r in rows:
        print(f"| {name} | {kind} | {threads} | {acc.macs_per_token / 1e6:.2f}M | {acc.total_params / 1e6:.1f}M "
              f"| {size / 1e6:.1f} | {r['decodeMsPerToken']:.2f} | {r['prefill512Ms']:.0f} | {r['prefill1024Ms']:.0f} "
              f"| {r['prefill2048Ms']:.0f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{**r, "graph": r["model"], "model": name, "weights": kind, "threads": threads,
                        "macs_per_token": acc.macs_per_token, "total_params": acc.total_params, "file_bytes": size}
                       for name, kind, threads, acc, size, r in rows], f, indent=1)


if __name__ == "__main__":
    main()
