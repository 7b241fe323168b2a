"""Model folders with random weights in the shipped shapes, for `npm run bench:engine` (src/bench/engine.ts).

Writes, under --out: `ultramem/`, `dense/` and `moe/` model folders (the `laptop` preset and its twins of equal
activated compute from `accounting.model_twins`, 16 experts top-2 as in the trained MoE twin), exported by the
project's own path (`model_folder.write_model_folder`: float export, then the same int8 quantization as the shipped
model) with the shipped tokenizer; `gemm.onnx`, one fp32 MatMul (M x K times a constant K x N) for the GEMM peak;
and `models.json` with each model's activated MACs per token (`accounting.count`). Timing does not depend on
weight values, so random weights time like trained ones.
Usage: python3 -m models.scripts.engine_bench_models --out DIR [--tokenizer models/ultramem-code-s/tokenizer.json]
"""
import argparse
import json
import os

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from models.ultramem import Transformer, count, model_twins
from models.ultramem.model_folder import write_model_folder
from models.ultramem.presets import laptop

MODELS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEMM_SHAPE = (512, 512, 512)  # M (tokens), K, N: the 512-wide reference matrices


def write_gemm_graph(path: str, m: int, k: int, n: int) -> None:
    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(rng.standard_normal((k, n), dtype=np.float32), "b")
    graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"])], "gemm",
                              [helper.make_tensor_value_info("a", TensorProto.FLOAT, [m, k])],
                              [helper.make_tensor_value_info("c", TensorProto.FLOAT, [m, n])], [weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--tokenizer", default=os.path.join(MODELS, "ultramem-code-s", "tokenizer.json"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    um = laptop()
    dense, moe = model_twins(um, n_experts=16, top_k=2)
    listing = {}
    for name, cfg in (("ultramem", um), ("dense", dense), ("moe", moe)):
        acc = count(cfg)
        print(acc.summary(name), flush=True)
        torch.manual_seed(0)
        model = Transformer(cfg).eval()
        write_model_folder(model, args.tokenizer, os.path.join(args.out, name), f"bench-{name}",
                           f"{name}, random weights", "random weights in the shipped shape, for bench:engine",
                           fim_template="spm")
        listing[name] = {"dir": name, "activatedMacsPerToken": acc.macs_per_token, "lmHeadMacs": acc.lm_head_macs}
    write_gemm_graph(os.path.join(args.out, "gemm.onnx"), *GEMM_SHAPE)
    listing["gemm"] = {"path": "gemm.onnx", "m": GEMM_SHAPE[0], "k": GEMM_SHAPE[1], "n": GEMM_SHAPE[2]}
    with open(os.path.join(args.out, "models.json"), "w") as f:
        json.dump(listing, f, indent=1)


if __name__ == "__main__":
    main()
