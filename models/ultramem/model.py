"""Decoder-only Transformer backbone shared by UltraMem, dense and MoE models.

Pre-RMSNorm blocks, RoPE, SwiGLU, tied embeddings, optional grouped-query attention, no biases. UltraMem
memory layers are wired with skip-layer placement (models/ARCHITECTURE.md, "Skip-layer placement"): layer k reads
the pre-FFN normed state of block s_k and its output is added to the residual stream after block t_k.

`forward(ids, past, num_logits)` serves training (no past), prefill and incremental decoding with a KV cache;
`past` / `present` are lists of (key, value) per layer, each (B, n_kv_head, P, head_dim), keys after RoPE.
"""
from __future__ import annotations

import math
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import ModelConfig
from .memory import UltraMemLayer
from .moe import MoEFeedForward

KV = Tuple[torch.Tensor, torch.Tensor]


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return xf.to(x.dtype) * self.weight


def rope_tables(positions: torch.Tensor, head_dim: int, theta: float):
    """cos, sin of shape (T, head_dim/2) for float positions (T,)."""
    inv_freq = theta ** (-torch.arange(0, head_dim, 2, dtype=torch.float32, device=positions.device) / head_dim)
    freqs = positions.unsqueeze(1) * inv_freq.unsqueeze(0)
    return torch.cos(freqs), torch.sin(freqs)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate-half RoPE on (B, H, T, D)."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.n_head, self.n_kv_head, self.head_dim = cfg.n_head, cfg.n_kv_head, cfg.head_dim
        self.wq = nn.Linear(cfg.d_model, cfg.n_head * cfg.head_dim, bias=False)
        self.wk = nn.Linear(cfg.d_model, cfg.n_kv_head * cfg.head_dim, bias=False)
        self.wv = nn.Linear(cfg.d_model, cfg.n_kv_head * cfg.head_dim, bias=False)
        self.wo = nn.Linear(cfg.n_head * cfg.head_dim, cfg.d_model, bias=False)

    def forward(self, x, cos, sin, past: Optional[KV]):
        B, T, _ = x.shape
        H, Hkv, D = self.n_head, self.n_kv_head, self.head_dim
        q = apply_rope(self.wq(x).view(B, T, H, D).transpose(1, 2), cos, sin)  # (B, H, T, D)
        k = apply_rope(self.wk(x).view(B, T, Hkv, D).transpose(1, 2), cos, sin)  # (B, Hkv, T, D)
        v = self.wv(x).view(B, T, Hkv, D).transpose(1, 2)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        present = (k, v)
        if past is None and hasattr(F, "scaled_dot_product_attention") and not torch.onnx.is_in_onnx_export():
            # fast path (PyTorch >= 2.0); the reference path below is what 1.13 and the ONNX export use
            G = H // Hkv
            kk = k.repeat_interleave(G, dim=1) if G > 1 else k
            vv = v.repeat_interleave(G, dim=1) if G > 1 else v
            y = F.scaled_dot_product_attention(q, kk, vv, is_causal=True)
        else:
            y = self._attend(q, k, v)
        return self.wo(y.transpose(1, 2).reshape(B, T, H * D)), present

    def _attend(self, q, k, v):
        """Causal attention of T new queries over S = P + T keys; GQA without copying the cache."""
        B, H, T, D = q.shape
        Hkv, S = k.shape[1], k.shape[2]
        G = H // Hkv
        qg = q.reshape(B, Hkv, G * T, D)  # query heads of one kv head side by side
        scores = torch.matmul(qg, k.transpose(2, 3)) * (1.0 / math.sqrt(D))  # (B, Hkv, G*T, S)
        q_pos = torch.arange(T, device=q.device).unsqueeze(1) + (S - T)
        k_pos = torch.arange(S, device=q.device).unsqueeze(0)
        mask = (k_pos > q_pos).to(scores.dtype) * torch.finfo(scores.dtype).min  # (T, S)
        scores = scores.view(B, Hkv, G, T, S) + mask
        probs = torch.softmax(scores.float(), dim=-1).to(v.dtype).view(B, Hkv, G * T, S)
        return torch.matmul(probs, v).view(B, H, T, D)


class SwiGLU(nn.Module):
    def __init__(self, d_model: int, hidden: int):
        super().__init__()
        self.w1 = nn.Linear(d_model, hidden, bias=False)  # gate
        self.w3 = nn.Linear(d_model, hidden, bias=False)  # up
        self.w2 = nn.Linear(hidden, d_model, bias=False)  # down

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.attn_norm = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.attn = Attention(cfg)
        self.ffn_norm = RMSNorm(cfg.d_model, cfg.norm_eps)
        if cfg.architecture == "moe":
            self.ffn = MoEFeedForward(cfg.moe, cfg.d_model, cfg.init_std, cfg.init_std / math.sqrt(2 * cfg.n_layer))
        else:
            self.ffn = SwiGLU(cfg.d_model, cfg.ffn_hidden)

    def forward(self, x, cos, sin, past: Optional[KV]):
        """Returns the new residual, this layer's KV, and the pre-FFN normed state (memory layers read it)."""
        a, present = self.attn(self.attn_norm(x), cos, sin, past)
        x = x + a
        ffn_in = self.ffn_norm(x)
        return x + self.ffn(ffn_in), present, ffn_in


class Transformer(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])
        self.norm = RMSNorm(cfg.d_model, cfg.norm_eps)
        pairs = cfg.memory.pairs() if cfg.memory is not None else []
        self.memory_pairs = pairs
        self.memories = nn.ModuleList(
            [UltraMemLayer(cfg.memory, cfg.d_model, cfg.initial_value_std()) for _ in pairs])
        self._init_weights()
        if cfg.memory is not None and cfg.memory.value_init_std == 0:
            self._match_memory_to_ffn()

    def _init_weights(self):
        std, out_std = self.cfg.init_std, self.cfg.init_std / math.sqrt(2 * self.cfg.n_layer)
        nn.init.normal_(self.embed.weight, std=std)
        for block in self.blocks:
            for lin in (block.attn.wq, block.attn.wk, block.attn.wv):
                nn.init.normal_(lin.weight, std=std)
            nn.init.normal_(block.attn.wo.weight, std=out_std)  # GPT-2 scaled residual init
            if isinstance(block.ffn, SwiGLU):
                nn.init.normal_(block.ffn.w1.weight, std=std)
                nn.init.normal_(block.ffn.w3.weight, std=std)
                nn.init.normal_(block.ffn.w2.weight, std=out_std)

    @torch.no_grad()
    def _match_memory_to_ffn(self, tokens: int = 512, seed: int = 0) -> None:
        """Each memory layer starts with unit mean top-m score and the output RMS of the FFN of its source block,
        measured on unit-RMS states (what the pre-FFN RMSNorm gives at init). Own generator: the global RNG, and so
        every other weight, is the same with or without this step."""
        x = torch.randn(tokens, self.cfg.d_model, generator=torch.Generator().manual_seed(seed))
        for (s, _), memory in zip(self.memory_pairs, self.memories):
            ffn_rms = self.blocks[s].ffn(x).pow(2).mean().sqrt().item()
            memory.match_init_scale(x, ffn_rms)

    # ---- forward -----------------------------------------------------------------------------------------------
    def forward(self, ids: torch.Tensor, past: Optional[List[KV]] = None, num_logits: Optional[int] = None):
        """ids: (B, T). Returns logits (B, T or num_logits, V) and the present KV cache (list per layer)."""
        B, T = ids.shape
        P = past[0][0].shape[2] if past is not None else 0
        positions = torch.arange(T, device=ids.device, dtype=torch.float32) + P
        cos, sin = rope_tables(positions, self.cfg.head_dim, self.cfg.rope_theta)
        x = self.embed(ids)
        sources = {s: (k, t) for k, (s, t) in enumerate(self.memory_pairs)}
        pending: Optional[Tuple[int, torch.Tensor]] = None  # (target block, memory output)
        presents = []
        for i, block in enumerate(self.blocks):
            x, present, ffn_in = block(x, cos, sin, past[i] if past is not None else None)
            presents.append(present)
            if i in sources:
                k, t = sources[i]
                pending = (t, self.memories[k](ffn_in))
            if pending is not None and pending[0] == i:
                x = x + pending[1]
                pending = None
        x = self.norm(x)
        if num_logits is not None:  # an int, or a (1,) tensor in the exported graph
            n = num_logits if isinstance(num_logits, int) else num_logits[0]
            x = torch.index_select(x, 1, torch.arange(n, device=x.device) + (T - n))
        logits = F.linear(x, self.embed.weight)  # tied embeddings
        return logits, presents

    def aux_loss(self) -> torch.Tensor:
        """Sum of the MoE routers' auxiliary losses of the last forward pass (0 for other architectures)."""
        total = torch.zeros((), device=self.embed.weight.device)
        for block in self.blocks:
            if isinstance(block.ffn, MoEFeedForward):
                total = total + block.ffn.aux_loss
        return total

    # ---- UltraMem housekeeping -------------------------------------------------------------------------------
    def refresh_tucker_filters(self) -> None:
        """Once per optimizer step (models/ARCHITECTURE.md, "TDQKR")."""
        for mem in self.memories:
            mem.refresh_tucker_filter()

    def fold_for_inference(self) -> None:
        for mem in self.memories:
            mem.fold_for_inference()

    def unfold(self) -> None:
        for mem in self.memories:
            mem.unfold()
