"""Validation loss per language of checkpoints on held-out token files (heldout_<lang>.bin).

Usage: python3 -m models.scripts.eval_loss --tokens data/tokens --out val.json CKPT|FOLDER [...]
Each file is read as consecutive windows of --seq-len tokens (at most --max-windows per language).
"""
import argparse
import glob
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

from models.ultramem.train import load_weights


@torch.no_grad()
def language_loss(model, tokens: np.ndarray, seq_len: int, max_windows: int, device) -> float:
    n = min(max_windows, (len(tokens) - 1) // seq_len)
    total, count = 0.0, 0
    for i in range(0, n, 8):
        starts = range(i * seq_len, min(n, i + 8) * seq_len, seq_len)
        batch = torch.from_numpy(np.stack([tokens[s:s + seq_len + 1].astype(np.int64) for s in starts])).to(device)
        logits, _ = model(batch[:, :-1])
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1), reduction="sum")
        total, count = total + loss.item(), count + batch[:, 1:].numel()
    return total / max(1, count)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seq-len", type=int, default=1024)
    ap.add_argument("--max-windows", type=int, default=200)
    ap.add_argument("checkpoints", nargs="+")
    args = ap.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    files = sorted(glob.glob(os.path.join(args.tokens, "heldout_*.bin")))
    results = {}
    for ckpt in args.checkpoints:
        model = load_weights(ckpt, map_location=device).to(device).eval()
        per_lang = {}
        for path in files:
            tokens = np.memmap(path, dtype=np.uint16, mode="r")
            if len(tokens) > args.seq_len + 1:
                lang = os.path.basename(path)[len("heldout_"):-len(".bin")]
                per_lang[lang] = round(language_loss(model, tokens, args.seq_len, args.max_windows, device), 4)
        per_lang["mean"] = round(float(np.mean(list(per_lang.values()))), 4)
        results[ckpt] = {"architecture": model.cfg.architecture, "val_loss": per_lang}
        print(json.dumps(results[ckpt]), flush=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
