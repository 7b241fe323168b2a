"""Activated compute and parameter counts, analytic so that multi-GB configs need not be built to be counted.

MACs are per token and exclude attention over the context (the same for every architecture on one backbone)
and the LM head (reported apart), as in models/ARCHITECTURE.md, "Cost". `model_twins` sizes a dense and an MoE
model to the activated MACs of an UltraMem config.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

from .config import ModelConfig


@dataclass
class Accounting:
    macs_per_token: int      # activated multiply-accumulates per token (no attention scores, no LM head)
    lm_head_macs: int
    memory_macs: int         # part of macs_per_token spent in memory layers (inference, folded)
    total_params: int        # every parameter, embedding included
    dense_params: int        # parameters read in full for every token (not value tables, not idle experts)
    table_params: int        # UltraMem value tables
    expert_params: int       # all MoE expert weights

    def summary(self, name: str) -> str:
        return (f"{name:>10}: {self.macs_per_token / 1e6:8.3f}M MACs/token (+{self.lm_head_macs / 1e6:.2f}M LM head, "
                f"memory {self.memory_macs / 1e6:.2f}M) | params total {self.total_params / 1e6:9.3f}M, "
                f"dense {self.dense_params / 1e6:8.3f}M, tables {self.table_params / 1e6:8.3f}M, "
                f"experts {self.expert_params / 1e6:8.3f}M")


def _attention_params(cfg: ModelConfig) -> int:
    return 2 * cfg.d_model * cfg.n_head * cfg.head_dim + 2 * cfg.d_model * cfg.n_kv_head * cfg.head_dim


def memory_layer_counts(cfg: ModelConfig):
    """(inference MACs, params excluding the table, table params) of one memory layer
    (models/ARCHITECTURE.md, "Cost")."""
    m, d = cfg.memory, cfg.d_model
    r, n, mf, dk, h, H = m.tucker_rank, m.n_keys, m.n_filter, m.key_dim, m.mcs_cores, m.heads
    n_proj = 1 if m.single_projector else m.expansion
    grid = mf * mf if m.retrieval == "pkm" else h * (mf * r * r + mf * mf * r)
    per_head = d * 2 * dk + 2 * n * dk + 2 * mf * r * dk + grid + m.topk * m.value_dim
    macs = H * per_head + n_proj * m.value_dim * d
    qk_norm = 2 * dk if m.qk_norm else 0
    params = H * d * 2 * dk + 2 * r * n * dk + h * r * r + n_proj * m.value_dim * d + qk_norm
    return macs, params, m.n_values * m.value_dim


def count(cfg: ModelConfig) -> Accounting:
    d, L = cfg.d_model, cfg.n_layer
    attn = _attention_params(cfg)
    norms = 2 * d * L + d
    embed = cfg.vocab_size * d
    macs = L * attn
    dense = embed + norms + L * attn
    tables = experts = mem_macs = 0
    if cfg.architecture == "moe":
        e = cfg.moe
        router = d * e.n_experts
        macs += L * (router + e.top_k * 3 * d * e.expert_hidden)
        dense += L * router
        experts = L * e.n_experts * 3 * d * e.expert_hidden
    else:
        macs += L * 3 * d * cfg.ffn_hidden
        dense += L * 3 * d * cfg.ffn_hidden
    if cfg.architecture == "ultramem":
        layer_macs, layer_params, layer_table = memory_layer_counts(cfg)
        k = len(cfg.memory.pairs())
        mem_macs = k * layer_macs
        macs += mem_macs
        dense += k * layer_params
        tables = k * layer_table
    return Accounting(macs_per_token=macs, lm_head_macs=embed, memory_macs=mem_macs,
                      total_params=dense + tables + experts, dense_params=dense, table_params=tables,
                      expert_params=experts)


def model_twins(cfg: ModelConfig, n_experts: int = 32, top_k: int = 2, multiple_of: int = 8):
    """Dense and MoE configs on the same backbone with the activated MACs/token of the UltraMem `cfg`.

    Widths are rounded to `multiple_of`; `count()` of each twin shows how close the match is.
    """
    from .config import MoEConfig
    assert cfg.architecture == "ultramem"
    d, L = cfg.d_model, cfg.n_layer
    mem_per_layer = count(cfg).memory_macs / L
    dense_ffn = cfg.ffn_hidden + mem_per_layer / (3 * d)
    dense = copy.deepcopy(cfg)
    dense.architecture, dense.memory = "dense", None
    dense.ffn_hidden = int(round(dense_ffn / multiple_of)) * multiple_of
    moe = copy.deepcopy(dense)
    moe.architecture = "moe"
    expert_hidden = (3 * d * dense_ffn - d * n_experts) / (3 * d * top_k)
    moe.moe = MoEConfig(n_experts=n_experts, top_k=top_k,
                        expert_hidden=int(round(expert_hidden / multiple_of)) * multiple_of)
    dense.validate()
    moe.validate()
    return dense, moe
