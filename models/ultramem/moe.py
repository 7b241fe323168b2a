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
        if torch.onnx.is_in_onnx_export():
            out = self._forward_gathered(x, top_i, top_w)
        else:
            out = self._forward_dispatched(x, top_i, top_w)
        return out.view(shape)

    def _expert(self, e: int, x: torch.Tensor) -> torch.Tensor:
        return torch.matmul(F.silu(x @ self.w1[e]) * (x @ self.w3[e]), self.w2[e])

    def _forward_dispatched(self, x, top_i, top_w):
        """Training / PyTorch inference: each expert runs on the tokens routed to it."""
        out = torch.zeros_like(x)
        for e in range(self.cfg.n_experts):
            tok, slot = torch.nonzero(top_i == e, as_tuple=True)
            if tok.numel() == 0:
                continue
            y = self._expert(e, x[tok]) * top_w[tok, slot].unsqueeze(-1)
            out.index_add_(0, tok, y)
        return out

    def _forward_gathered(self, x, top_i, top_w):
        """Export path: gather the k experts' weights per token. Exact at any T, cheap at T = 1 (decode)."""
        xk = x.unsqueeze(1).unsqueeze(2)  # (T, 1, 1, d)
        h = F.silu(torch.matmul(xk, self.w1[top_i])) * torch.matmul(xk, self.w3[top_i])  # (T, k, 1, f)
        y = torch.matmul(h, self.w2[top_i]).squeeze(2)  # (T, k, d)
        return (y * top_w.unsqueeze(-1)).sum(1)

