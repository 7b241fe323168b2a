"""What the int8 graph costs against the float graph of the same export: held-out loss and argmax agreement.

Usage: python3 -m models.scripts.int8_cost --model DIR [--out FILE.json]
DIR is a model folder exported with `export.py --keep-float` (model.onnx and model.float.onnx from one checkpoint),
so that weight and activation quantization (MatMulNBits, 8-bit blocks, accuracy level 4) and the int8 row tables are
all in the difference. Both graphs score the same windows of this repository's own code (table_bits.py) in
onnxruntime-node, teacher-forced.
"""
import argparse
import json
import os

import numpy as np

from models.scripts.table_bits import repository_windows
from models.ultramem.ort_check import score_windows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--out")
    ap.add_argument("--window", type=int, default=512)
    ap.add_argument("--windows", type=int, default=64)
    args = ap.parse_args()
    windows = repository_windows(os.path.join(args.model, "tokenizer.json"), args.window, args.windows)
    result = {"model": os.path.abspath(args.model), "windows": len(windows), "window_tokens": args.window}
    argmax = {}
    for graph in ("model.onnx", "model.float.onnx"):
        scores = score_windows(os.path.join(args.model, graph), windows)
        argmax[graph] = np.concatenate([a for _, a in scores])
        result[graph] = {"loss": round(float(np.mean(np.concatenate([n for n, _ in scores]))), 4)}
    result["same_argmax"] = round(float(np.mean(argmax["model.onnx"] == argmax["model.float.onnx"])), 4)
    print(json.dumps(result, indent=1))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
