"""Top-k mixture-of-experts FFN: the equal-compute baseline (notes §6.4; losses as in OLMoE / ST-MoE)."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import MoEConfig


class MoEFeedForward(nn.Module):
    def __init__(self, cfg: MoEConfig, d_model: int, init_std: float, out_std: float):
        super().__init__()
        self.cfg = cfg
        E, f = cfg.n_experts, cfg.expert_hidden
        self.router = nn.Linear(d_model, E, bias=False)
        # stacked SwiGLU experts: gate (w1), up (w3), down (w2)
        self.w1 = nn.Parameter(torch.randn(E, d_model, f) * init_std)
        self.w3 = nn.Parameter(torch.randn(E, d_model, f) * init_std)
        self.w2 = nn.Parameter(torch.randn(E, f, d_model) * out_std)
        nn.init.normal_(self.router.weight, std=init_std)
        self.aux_loss = torch.zeros(())

    def route(self, x: torch.Tensor):
        """x: (T, d) -> top-k expert ids (T, k) and their renormalized weights (T, k)."""
        logits = self.router(x).float()  # (T, E)
        probs = torch.softmax(logits, dim=-1)
        top_p, top_i = torch.topk(probs, self.cfg.top_k, dim=-1)
        top_w = top_p / top_p.sum(-1, keepdim=True)
        if self.training:
            E = self.cfg.n_experts
            # load balance (Switch): E * sum_e (fraction of routed slots to e) * (mean router prob of e)
            frac = F.one_hot(top_i, E).float().sum((0, 1)) / top_i.numel()
            balance = E * (frac * probs.mean(0)).sum()
            z = torch.logsumexp(logits, dim=-1).pow(2).mean()  # router z-loss
            self.aux_loss = self.cfg.balance_loss * balance + self.cfg.z_loss * z
        return top_i, top_w.to(x.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x = x.reshape(-1, shape[-1])
        top_i, top_w = self.route(x)
        # each expert runs on the tokens routed to it; this also exports to ONNX as NonZero + Gather + MatMul +
        # ScatterND per expert, so a prefill costs about the activated compute, not k experts' weights per token
        out = torch.zeros_like(x)
        for e in range(self.cfg.n_experts):
            tok, slot = torch.nonzero(top_i == e, as_tuple=True)
            y = self._expert(e, x[tok]) * top_w[tok, slot].unsqueeze(-1)
            out = out.index_add(0, tok, y)
        return out.view(shape)

    def _expert(self, e: int, x: torch.Tensor) -> torch.Tensor:
        return torch.matmul(F.silu(x @ self.w1[e]) * (x @ self.w3[e]), self.w2[e])
