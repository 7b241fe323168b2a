"""Attention over a fixed-capacity KV cache, exported as onnxruntime's fused `com.microsoft.GroupQueryAttention`.

The graph contract's `kvCache.layout: "capacity"` (models/README.md): every layer's cache is a buffer
[1, Hkv, C, D] of which the first `past_length` positions are valid, passed in as it is (onnxruntime-node feeds JS
buffers without copying them). The fused operator rotates the new queries and keys (RoPE, rotate-half) at
positions past_length .. past_length + T - 1 and attends causally over the valid past and the new tokens. The graph
returns only the new tokens' keys and values, [1, Hkv, T, D], which the caller writes into its buffers at
past_length; a rollback is a smaller past_length. (Binding the buffers as the operator's outputs would let it write
in place, but onnxruntime-node copies every returned output into a new JS buffer: C-sized copies on every step.)
In PyTorch (`forward`) the same computation runs directly, which the parity tests compare with the model's own
attention.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn as nn

from .model import Attention, apply_rope, rope_tables


class CapacityKV(NamedTuple):
    """One layer's cache as capacity buffers (B, Hkv, C, D) and the number of valid positions (int64, shape (1,));
    the layer returns the new tokens' entries, not the buffers."""
    key: torch.Tensor
    value: torch.Tensor
    length: torch.Tensor


def rope_caches(capacity: int, head_dim: int, theta: float):
    """cos, sin of every position up to the capacity: (C, head_dim / 2), the operator's cos_cache / sin_cache."""
    return rope_tables(torch.arange(capacity, dtype=torch.float32), head_dim, theta)


class GroupQueryAttention(torch.autograd.Function):
    """q (B, T, H*D), k and v (B, T, Hkv*D) before RoPE -> attention output (B, T, H*D) and the new tokens' cache
    entries (B, Hkv, T, D), keys after RoPE."""

    @staticmethod
    def forward(ctx, q, k, v, past_key, past_value, length, cos_cache, sin_cache, num_heads: int, kv_heads: int):
        B, T, _ = q.shape
        D = past_key.shape[-1]
        if torch.onnx.is_in_onnx_export():  # the exporter needs only the outputs' types and shapes (symbolic below)
            new = torch.zeros(B, kv_heads, T, D)
            return q.clone(), new, new.clone()
        P = int(length.reshape(-1)[0])
        cos, sin = cos_cache[P:P + T], sin_cache[P:P + T]
        q = apply_rope(q.view(B, T, num_heads, D).transpose(1, 2), cos, sin)      # (B, H, T, D)
        k = apply_rope(k.view(B, T, kv_heads, D).transpose(1, 2), cos, sin)       # (B, Hkv, T, D)
        v = v.view(B, T, kv_heads, D).transpose(1, 2)
        keys = torch.cat([past_key[:, :, :P], k], dim=2).repeat_interleave(num_heads // kv_heads, dim=1)
        values = torch.cat([past_value[:, :, :P], v], dim=2).repeat_interleave(num_heads // kv_heads, dim=1)
        scores = torch.matmul(q, keys.transpose(2, 3)) / math.sqrt(D)              # (B, H, T, P + T)
        visible = torch.arange(P + T).view(1, -1) <= torch.arange(P, P + T).view(-1, 1)
        scores = scores.masked_fill(~visible, float("-inf"))
        out = torch.matmul(torch.softmax(scores, dim=-1), values)                  # (B, H, T, D)
        return out.transpose(1, 2).reshape(B, T, num_heads * D), k, v

    @staticmethod
    def symbolic(g, q, k, v, past_key, past_value, length, cos_cache, sin_cache, num_heads, kv_heads):
        new_tokens = g.op("Gather", g.op("Shape", q), g.op("Constant", value_t=torch.tensor(1)), axis_i=0)
        total = g.op("Add", length, new_tokens)                                     # (1,) int64: P + T
        int32 = 6  # onnx TensorProto.INT32
        seqlens_k = g.op("Cast", g.op("Sub", total, g.op("Constant", value_t=torch.tensor([1]))), to_i=int32)
        total_length = g.op("Cast", g.op("Squeeze", total, g.op("Constant", value_t=torch.tensor([0]))), to_i=int32)
        out, present_key, present_value = g.op(
            "com.microsoft::GroupQueryAttention", q, k, v, past_key, past_value, seqlens_k, total_length, cos_cache,
            sin_cache, num_heads_i=num_heads, kv_num_heads_i=kv_heads, do_rotary_i=1, rotary_interleaved_i=0, outputs=3)
        # ONNX shape inference knows no contrib op: without these types the exporter picks float code paths for the
        # integer index arithmetic of the memory layers downstream
        out.setType(q.type())
        axis = g.op("Constant", value_t=torch.tensor([2]))
        new_key = g.op("Slice", present_key, length, total, axis)     # positions P .. P + T - 1
        new_value = g.op("Slice", present_value, length, total, axis)
        new_key.setType(past_key.type())
        new_value.setType(past_value.type())
        return out, new_key, new_value


class CapacityAttention(nn.Module):
    """A block's attention with the same weights, over a CapacityKV cache through GroupQueryAttention. The RoPE
    tables the Transformer passes in are not used: the operator rotates at the cache's positions itself."""

    def __init__(self, attention: Attention, cos_cache: torch.Tensor, sin_cache: torch.Tensor):
        super().__init__()
        # the same module names as Attention's, so that the graph's node names (onnx_import reads weights by
        # them) do not depend on the layout
        self.wq, self.wk, self.wv, self.wo = attention.wq, attention.wk, attention.wv, attention.wo
        self.n_head, self.n_kv_head = attention.n_head, attention.n_kv_head
        self.register_buffer("cos_cache", cos_cache, persistent=False)
        self.register_buffer("sin_cache", sin_cache, persistent=False)

    def forward(self, x, cos, sin, past: CapacityKV):
        out, key, value = GroupQueryAttention.apply(self.wq(x), self.wk(x), self.wv(x), past.key, past.value,
                                                    past.length, self.cos_cache, self.sin_cache, self.n_head,
                                                    self.n_kv_head)
        return self.wo(out), (key, value)
