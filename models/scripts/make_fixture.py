"""Builds models/tiny-fixture: a tiny UltraMem model in the model-folder format, plus golden data.

The tokenizer and the weights are trained on two files of this repository's model code (the weights: a random
init overfit for about a minute of CPU), which gives greedy paths decisive logit margins, so that the int8 graph picks the
same tokens as PyTorch (a random-init model walks through near ties: models/LOG.md).

Usage (from the repo root, after `npm ci`):  python3 -m models.scripts.make_fixture [--out models/tiny-fixture]
golden.json holds, for a few prompts, the prompt ids, the PyTorch greedy continuation and the first logits.
The script checks that both exported graphs give the greedy tokens as their argmax along that path (teacher-forced,
in onnxruntime-node) before it writes; the worker decodes them in test/worker/worker.test.ts.
"""
import argparse
import json
import os
import subprocess
import tempfile

import numpy as np
import torch

from models.ultramem import MemoryConfig, ModelConfig
from models.ultramem.model_folder import write_manifest, write_model_folder
from models.ultramem.ort_check import argmax_along, tokenize
from models.ultramem.train import TrainConfig, load_checkpoint, train

CANDIDATE_PROMPTS = [
    "class RMSNorm(nn.Module):\n",
    "def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:\n",
    "class SwiGLU(nn.Module):\n    def __init__(self, d_model: int, hidden: int):\n",
    "    def refresh_tucker_filter(self) -> None:\n",
    "def fibonacci(n):\n    ",
    "import torch\n\nclass Block(nn.Module):\n    def __init__(self, cfg):\n",
    "const session = await ort.InferenceSession.create(",
    "for (let i = 0; i < layers; i++) {\n",
    "    def forward(self, x):\n        ",
    "import numpy as np\n",
    "function emptyCache() {\n  const cache = {};\n",
    "class Attention(nn.Module):\n",
    "    return ",
    "if __name__ == \"__main__\":\n    ",
]
GREEDY_STEPS = 12
N_PROMPTS = 4
MIN_MARGIN = 0.15  # top-1 stays this far above top-2 at every step: 4x the int8 graph's logit error (0.036)


def fixture_config(vocab_size: int) -> ModelConfig:
    return ModelConfig(
        architecture="ultramem", vocab_size=vocab_size, n_layer=4, d_model=64, n_head=4, n_kv_head=2,
        ffn_hidden=128, context_length=512,
        memory=MemoryConfig(placement="0:1,2:3", n_keys=32, expansion=4, key_dim=16, value_dim=32, topk=8))


def greedy_path(model, ids):
    """PyTorch greedy continuation, the logits after the prompt, and the smallest top-1/top-2 margin on the way: the
    reference that the worker's decoding is checked against (test/worker/worker.test.ts)."""
    with torch.no_grad():
        logits, past = model(torch.tensor([ids]), num_logits=1)
        first, greedy, margin = logits[0, -1].clone(), [], float("inf")
        for _ in range(GREEDY_STEPS):
            top2 = torch.topk(logits[0, -1], 2).values
            margin = min(margin, float(top2[0] - top2[1]))
            greedy.append(int(logits[0, -1].argmax()))
            logits, past = model(torch.tensor([[greedy[-1]]]), past)
    return greedy, first, margin


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(here, "tiny-fixture"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--steps", type=int, default=500)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    tok_path = os.path.join(args.out, "tokenizer.json")
    sources = [os.path.join(here, "ultramem", f) for f in ("model.py", "memory.py")]
    subprocess.run(["node", os.path.join(here, "scripts", "make_fixture_tokenizer.mjs"), tok_path, "760", *sources],
                   check=True)
    with open(tok_path) as f:
        tok = json.load(f)
    vocab_size = len(tok["model"]["vocab"]) + len(tok["added_tokens"])

    texts = [open(p, encoding="utf-8").read() for p in sources]
    tokens = np.array([t for ids in tokenize(tok_path, texts) for t in ids], dtype=np.uint16)
    cfg = fixture_config(vocab_size)
    tc = TrainConfig(out_dir=tempfile.mkdtemp(prefix="tiny-fixture-train-"), steps=args.steps, batch_size=8, seq_len=128,
                     lr=3e-3, warmup_steps=20, seed=args.seed, log_every=50)
    train(cfg, tc, tokens=tokens)
    model = load_checkpoint(os.path.join(tc.out_dir, "ckpt.pt")).eval()
    write_model_folder(model, tok_path, args.out, name="tiny-fixture", display_name="Tiny fixture (random weights)",
                       description="Random-weight UltraMem model for tests; completes nothing useful.",
                       keep_float=True)
    golden = {"note": "PyTorch reference: greedy continuation of each prompt and the logits after the prompt",
              "greedySteps": GREEDY_STEPS, "prompts": []}
    decisive = int8_agrees = 0
    for text, ids in zip(CANDIDATE_PROMPTS, tokenize(tok_path, CANDIDATE_PROMPTS)):
        greedy, first, margin = greedy_path(model, ids)
        if margin < MIN_MARGIN:
            continue
        decisive += 1
        got = argmax_along(os.path.join(args.out, "model.float.onnx"), ids, greedy)
        assert got == greedy, f"float graph argmax {got} != PyTorch greedy {greedy} for {text!r}"
        got = argmax_along(os.path.join(args.out, "model.onnx"), ids, greedy)
        if got != greedy:  # a retrieval top-m flip upstream can move logits past the margin (models/LOG.md)
            print(f"int8 graph differs from PyTorch for {text!r}: {got} vs {greedy}")
            continue
        int8_agrees += 1
        if len(golden["prompts"]) < N_PROMPTS:
            golden["prompts"].append({"text": text, "ids": ids, "greedy": greedy,
                                      "firstLogits": [round(float(v), 6) for v in first]})
    print(f"{decisive} of {len(CANDIDATE_PROMPTS)} candidate prompts have decisive greedy paths; the int8 graph "
          f"reproduces {int8_agrees} of them exactly")
    assert len(golden["prompts"]) >= 3, "too few decisive prompts: train longer or add candidates"
    with open(os.path.join(args.out, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    with open(os.path.join(args.out, "manifest.json")) as f:
        manifest = json.load(f)
    fields = {k: v for k, v in manifest.items() if k not in ("format", "formatVersion", "files")}
    write_manifest(args.out, fields, list(manifest["files"]) + ["golden.json"])
    sizes = {name: os.path.getsize(os.path.join(args.out, name)) for name in os.listdir(args.out)}
    print(json.dumps(sizes, indent=1), f"total {sum(sizes.values()) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
