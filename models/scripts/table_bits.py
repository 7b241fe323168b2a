"""Held-out loss of a model folder with its value tables stored in 8 and in 4 bits (quantize.py value_bits).

Usage: python3 -m models.scripts.table_bits --model models/ultramem-code-s --out models/logs/<run>/table_bits.json
The folder's graph is read back (onnx_import), exported again and quantized both ways; both graphs score the
same windows of this repository's own code (not in the training corpus) in onnxruntime-node, teacher-forced.
"""
import argparse
import glob
import json
import os
import tempfile

import numpy as np

from models.ultramem.export import export_float
from models.ultramem.onnx_import import load_model_folder
from models.ultramem.ort_check import score_windows, tokenize
from models.ultramem.quantize import quantize_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def repository_windows(tokenizer: str, window: int, count: int):
    """`count` windows of `window` tokens from the repository's TypeScript and Python files, evenly spread."""
    files = sorted(glob.glob(os.path.join(ROOT, "src", "**", "*.ts"), recursive=True)
                   + glob.glob(os.path.join(ROOT, "models", "ultramem", "*.py")))
    ids = [t for t in tokenize(tokenizer, [open(f).read() for f in files]) if len(t) > window]
    per_file = max(1, count // len(ids))
    windows = [t[i:i + window] for t in ids for i in range(0, len(t) - window, max(1, (len(t) - window) // per_file))]
    return windows[:: max(1, len(windows) // count)][:count]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--window", type=int, default=256)
    ap.add_argument("--windows", type=int, default=48)
    args = ap.parse_args()
    model = load_model_folder(args.model).eval()
    windows = repository_windows(os.path.join(args.model, "tokenizer.json"), args.window, args.windows)
    result = {"model": args.model, "windows": len(windows), "window_tokens": args.window}
    with tempfile.TemporaryDirectory() as tmp:
        export_float(model, os.path.join(tmp, "float.onnx"))
        argmax = {}
        for bits in (8, 4):
            path = os.path.join(tmp, f"q{bits}.onnx")
            quantize_file(os.path.join(tmp, "float.onnx"), path, value_bits=bits)
            scores = score_windows(path, windows)
            argmax[bits] = np.concatenate([a for _, a in scores])
            result[f"value_bits_{bits}"] = {"loss": round(float(np.mean(np.concatenate([n for n, _ in scores]))), 4),
                                            "graph_mb": round(os.path.getsize(path) / 1e6, 1)}
        result["same_argmax"] = round(float(np.mean(argmax[8] == argmax[4])), 4)
    print(json.dumps(result, indent=1))
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
