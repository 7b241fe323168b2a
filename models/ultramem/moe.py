"""Top-k mixture-of-experts FFN: the equal-compute baseline (models/ARCHITECTURE.md, "UM-M and its twins"; losses
as in OLMoE / ST-MoE).

Exported as onnxruntime's fused `com.microsoft.MoE` (one node per layer; quantize.py makes it `QMoE` with int8
experts): the operator routes (softmax, top-k, renormalized) and runs each expert on its tokens in one kernel, so
a decode step reads k experts' weights and a prefill costs the activated compute, without the 16 subgraphs per
layer a per-expert loop exports to (models/LOG.md, 2026-12-06, "MoE twin with batched dispatch").
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import MoEConfig


def top_k_routing(logits: torch.Tensor, k: int):
    """Router logits (T, E) -> softmax probabilities (T, E), the top-k expert ids (T, k) and their weights
    renormalized to sum to 1 (T, k)."""
    probs = torch.softmax(logits.float(), dim=-1)
    top_p, top_i = torch.topk(probs, k, dim=-1)
    return probs, top_i, top_p / top_p.sum(-1, keepdim=True)


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
        probs, top_i, top_w = top_k_routing(logits, self.cfg.top_k)
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
        if torch.onnx.is_in_onnx_export():
            return FusedMoE.apply(x, self.router(x), *self.fused_weights(), self.cfg.top_k).view(shape)
        top_i, top_w = self.route(x)
        if self.training:
            return self._forward_sorted(x, top_i, top_w).view(shape)
        # each expert runs on the tokens routed to it
        out = torch.zeros_like(x)
        for e in range(self.cfg.n_experts):
            tok, slot = torch.nonzero(top_i == e, as_tuple=True)
            y = self._expert(e, x[tok]) * top_w[tok, slot].unsqueeze(-1)
            out = out.index_add(0, tok, y)
        return out.view(shape)

    def _forward_sorted(self, x: torch.Tensor, top_i: torch.Tensor, top_w: torch.Tensor) -> torch.Tensor:
        """Training dispatch, same result as the per-expert loop: the (token, slot) pairs sorted by expert, so
        each expert's tokens are one contiguous slice. The loop above syncs with the host once per expert
        (nonzero); this syncs at most once per layer, and not at all with a grouped GEMM."""
        k = self.cfg.top_k
        expert_of_pair, order = torch.sort(top_i.reshape(-1), stable=True)
        tok = order // k
        counts = torch.bincount(expert_of_pair, minlength=self.cfg.n_experts)
        xs = x[tok]
        d, f = self.w1.shape[1:]
        if x.is_cuda and torch.is_autocast_enabled() and _grouped_mm_works(x.device, d, f):
            bf16 = torch.bfloat16    # autocast does not cover _grouped_mm: cast as it would for a matmul
            offs = counts.cumsum(0).to(torch.int32)
            xs = xs.to(bf16)
            h = F.silu(_grouped_mm(xs, self.w1.to(bf16), offs)) * _grouped_mm(xs, self.w3.to(bf16), offs)
            ys = _grouped_mm(h, self.w2.to(bf16), offs)
        else:
            ys = torch.cat([self._expert(e, chunk) for e, chunk in enumerate(xs.split(counts.tolist()))])
        ys = ys.to(x.dtype) * top_w.reshape(-1)[order].unsqueeze(-1)
        return torch.zeros_like(x).index_add(0, tok, ys)

    def _expert(self, e: int, x: torch.Tensor) -> torch.Tensor:
        return torch.matmul(F.silu(x @ self.w1[e]) * (x @ self.w3[e]), self.w2[e])

    def fused_weights(self):
        """The experts in FusedMoE's layout: fc1 (E, 2f, d), row 2j the gate's column j (w1) and row 2j + 1 the
        up projection's (w3), as onnxruntime's interleaved SwiGLU reads them; fc2 (E, d, f), w2 transposed."""
        E, d, f = self.w1.shape
        fc1 = torch.stack([self.w1, self.w3], dim=-1).reshape(E, d, 2 * f).transpose(1, 2)
        return fc1, self.w2.transpose(1, 2)


class FusedMoE(torch.autograd.Function):
    """x (T, d), router logits (T, E), fc1 (E, 2f, d), fc2 (E, d, f) -> (T, d): exported as onnxruntime's
    `com.microsoft.MoE` (softmax over the logits, top-k, weights renormalized, SwiGLU silu(gate) * up with gate and
    up interleaved in fc1). In PyTorch (`forward`) the same function runs directly, written without a loop: every
    expert on every token, weighted by its routing weight (0 where the expert was not chosen). That is E / k times
    the activated compute, fine for the export's tracing and the parity tests, which are all it runs for; the eval
    forward stays the per-expert loop."""

    @staticmethod
    def forward(ctx, x, logits, fc1, fc2, k: int):
        _, top_i, top_w = top_k_routing(logits, k)
        weights = torch.zeros_like(logits, dtype=x.dtype).scatter(1, top_i, top_w.to(x.dtype))    # (T, E)
        h = torch.matmul(x, fc1.transpose(1, 2))                                                   # (E, T, 2f)
        y = torch.matmul(F.silu(h[..., 0::2]) * h[..., 1::2], fc2.transpose(1, 2))                 # (E, T, d)
        return (weights.t().unsqueeze(-1) * y).sum(0)

    @staticmethod
    def symbolic(g, x, logits, fc1, fc2, k):
        no_bias = g.op("prim::Constant")  # an omitted optional input, written as "" (no fc1 bias)
        no_bias.setType(torch._C.OptionalType.ofTensor())
        # alpha and beta set explicitly: onnxruntime's SwiGLU has had other defaults (gate * sigmoid(1.702 gate) *
        # (up + 1), as in gpt-oss), and the parity tests would catch a change of them
        y = g.op("com.microsoft::MoE", x, logits, fc1, no_bias, fc2, k_i=k, normalize_routing_weights_i=1,
                 activation_type_s="swiglu", swiglu_fusion_i=1, activation_alpha_f=1.0, activation_beta_f=0.0)
        y.setType(x.type())  # ONNX shape inference knows no contrib op
        return y


def _grouped_mm(a: torch.Tensor, b: torch.Tensor, offs: torch.Tensor) -> torch.Tensor:
    """Rows a[offs[e-1]:offs[e]] times b[e], for every expert e, in one kernel (PyTorch >= 2.8, Hopper, bf16)."""
    return torch._grouped_mm(a, b, offs=offs)


_GROUPED_MM_OK: dict = {}


def _grouped_mm_works(device: torch.device, d: int, f: int) -> bool:
    """Whether torch._grouped_mm runs forward and backward in bf16 on `device` for (d, f) experts and matches
    the loop (an empty group included); checked once, so an unsupported GPU or PyTorch keeps the loop."""
    key = (device, d, f)
    if key not in _GROUPED_MM_OK:
        _GROUPED_MM_OK[key] = False
        if hasattr(torch, "_grouped_mm"):
            try:
                with torch.autocast("cuda", enabled=False), torch.enable_grad():
                    g = torch.Generator(device=device).manual_seed(0)
                    a = torch.randn(48, d, device=device, generator=g).bfloat16().requires_grad_()
                    b = torch.randn(3, d, f, device=device, generator=g).bfloat16().requires_grad_()
                    offs = torch.tensor([16, 16, 48], device=device, dtype=torch.int32)
                    y = _grouped_mm(a, b, offs)
                    y.float().square().mean().backward()
                    ref = torch.cat([a[:16] @ b[0], a[16:] @ b[2]]).float()
                    err = (y.float() - ref).abs().max() / ref.abs().max()
                    _GROUPED_MM_OK[key] = bool(err < 2e-2 and b.grad is not None and torch.isfinite(b.grad).all()
                                               and b.grad[1].abs().max() == 0)
            except Exception:  # noqa: BLE001 (any failure means: use the loop)
                pass
    return _GROUPED_MM_OK[key]
