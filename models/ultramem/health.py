"""Memory health, logged during training (models/ARCHITECTURE.md, "Memory health"): is every memory layer read,
and is it heard?

Per memory layer, on a sample of training tokens:
  top1, topm       mean of the best and of all top-m ranking scores (summed MCS cores); the init sets topm to 1
  rms_ratio        RMS of the memory output over the RMS of its source block's FFN output (1 at init, UltraMemV2 App. A)
  sv_ratio         lambda_1 / lambda_2 of the summed Tucker cores (the rank-1 filter is accurate when this is large)
  rows_hit         fraction of the physical value rows read at least once by the sample's tokens
  top1pct_share    share of all reads that go to the most-read 1% of rows (uniform reads give 0.01)
"""
from __future__ import annotations

import math
from typing import List

import torch

from .model import Transformer


@torch.no_grad()
def memory_health(model: Transformer, ids: torch.Tensor) -> List[dict]:
    """ids: (B, T) token ids. One dict per memory layer; an empty list for models without memory."""
    if not model.memories:
        return []
    inputs = {}
    hooks = [mem.register_forward_hook(lambda mod, args, out, k=k: inputs.__setitem__(k, args[0].reshape(
        -1, args[0].shape[-1]).float())) for k, mem in enumerate(model.memories)]
    try:
        model(ids)
    finally:
        for h in hooks:
            h.remove()
    report = []
    for k, ((s, _), mem) in enumerate(zip(model.memory_pairs, model.memories)):
        x = inputs[k]
        cfg = mem.cfg
        addr, w = mem.retrieve(x)
        ranking = w.sum(1).view(x.shape[0], cfg.heads, cfg.topk)  # sorted per head: index 0 is the best
        rows = torch.remainder(mem.perm[addr], cfg.n_values).flatten()
        hits = torch.bincount(rows, minlength=cfg.n_values).float()
        busiest = torch.topk(hits, max(1, math.ceil(cfg.n_values / 100))).values
        sv = mem.singular_values()
        report.append({
            "layer": k,
            "top1": round(ranking[:, :, 0].mean().item(), 4),
            "topm": round(ranking.mean().item(), 4),
            "rms_ratio": round((mem(x).float().pow(2).mean().sqrt()
                                / model.blocks[s].ffn(x).float().pow(2).mean().sqrt()).item(), 4),
            "sv_ratio": round((sv[0] / sv[1]).item(), 3) if sv.numel() > 1 else None,
            "rows_hit": round((hits > 0).float().mean().item(), 4),
            "top1pct_share": round((busiest.sum() / hits.sum()).item(), 4),
            "tokens": x.shape[0],
        })
    return report
