"""Model configuration: plain dataclasses, saved as JSON next to every checkpoint and model folder.

One `ModelConfig` describes all three architectures that share the backbone:
  - "ultramem": dense blocks plus UltraMem memory layers (`memory`),
  - "dense":    dense blocks only (the equal-compute twin gets a wider `ffn_hidden`),
  - "moe":      every FFN is a top-k mixture of experts (`moe`).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from typing import List, Optional, Tuple


@dataclass
class MemoryConfig:
    """UltraMem memory layers (Huang et al., ICLR 2025). Defaults are UM-M. Names in quotes below are sections of
    models/ARCHITECTURE.md ("UM-M and its twins" for the defaults)."""
    # "s:t" pairs: input = pre-FFN normed state of block s, output added to the residual after block t
    # ("Skip-layer placement").
    placement: str = "1:3,4:6,7:9,10:11"
    n_keys: int = 1448          # keys per side n; the key grid addresses n*n virtual slots
    expansion: int = 4          # IVE E: virtual slots per physical row; physical rows N = n*n / E ("IVE")
    single_projector: bool = False  # IVE ablation: one D_v->d projector for every group (UltraMemV2; "IVE")
    key_dim: int = 128          # D_k per half (row / column)
    value_dim: int = 256        # D_v, width of a physical value row
    topk: int = 64              # m: values read per token per layer and head
    heads: int = 1              # query heads sharing keys and table, each with its own top-m ("Scores, heads, norms")
    filter_topk: int = 0        # candidates kept per side by the rank-1 filter; 0 means `topk` ("TDQKR")
    retrieval: str = "tdqkr"    # "tdqkr" (Tucker-decomposed) or "pkm" (additive product keys)
    tucker_rank: int = 2        # r
    mcs_cores: int = 2          # h: multi-core scoring, each core weights its share of the value row ("MCS")
    qk_norm: bool = True        # LayerNorm on query halves and key rows ("Scores, heads, norms")
    score_softmax: bool = False # the paper removes the softmax over the top-m scores ("Scores, heads, norms")
    value_init_std: float = 0.0  # 0: scaled at init so that the output RMS matches the FFN's (UltraMemV2 App. A)
    perm_seed: int = 1234       # seed of the fixed virtual->physical permutation pi ("IVE")

    @property
    def n_values(self) -> int:
        return self.n_keys * self.n_keys // self.expansion

    @property
    def n_filter(self) -> int:
        return self.filter_topk or self.topk

    def pairs(self) -> List[Tuple[int, int]]:
        if not self.placement:
            return []
        out = []
        for item in self.placement.split(","):
            s, t = (int(v) for v in item.strip().split(":"))
            out.append((s, t))
        return out


@dataclass
class MoEConfig:
    """Top-k mixture of experts replacing every FFN (the equal-compute baseline, models/ARCHITECTURE.md,
    "UM-M and its twins")."""
    n_experts: int = 32
    top_k: int = 2
    expert_hidden: int = 928     # SwiGLU inner width of one expert
    balance_loss: float = 0.01   # Switch-style load-balance loss coefficient
    z_loss: float = 0.001        # router z-loss coefficient (ST-MoE)


@dataclass
class ModelConfig:
    architecture: str = "ultramem"  # "ultramem" | "dense" | "moe"
    vocab_size: int = 32768
    n_layer: int = 12
    d_model: int = 512
    n_head: int = 8
    n_kv_head: int = 8              # < n_head gives grouped-query attention
    ffn_hidden: int = 1536          # SwiGLU inner width (dense blocks)
    context_length: int = 2048
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5
    init_std: float = 0.02
    memory: Optional[MemoryConfig] = None
    moe: Optional[MoEConfig] = None

    def __post_init__(self):
        if isinstance(self.memory, dict):
            self.memory = MemoryConfig(**self.memory)
        if isinstance(self.moe, dict):
            self.moe = MoEConfig(**self.moe)
        self.validate()

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_head

    def validate(self) -> None:
        assert self.architecture in ("ultramem", "dense", "moe"), f"unknown architecture {self.architecture!r}"
        assert self.d_model % self.n_head == 0, "d_model must be a multiple of n_head"
        assert self.n_head % self.n_kv_head == 0, "n_head must be a multiple of n_kv_head"
        assert self.head_dim % 2 == 0, "RoPE needs an even head_dim"
        assert (self.memory is not None) == (self.architecture == "ultramem"), "memory config iff ultramem"
        assert (self.moe is not None) == (self.architecture == "moe"), "moe config iff moe"
        if self.memory is not None:
            m = self.memory
            assert m.retrieval in ("tdqkr", "pkm"), f"unknown retrieval {m.retrieval!r}"
            assert (m.n_keys * m.n_keys) % m.expansion == 0, "n_keys**2 must be a multiple of the IVE expansion"
            assert m.value_dim % m.mcs_cores == 0, "value_dim must split evenly over the MCS cores"
            assert m.n_filter <= m.n_keys and m.topk <= m.n_filter ** 2, "filter/top-m larger than the key grid"
            assert m.heads >= 1, "a memory layer needs at least one query head"
            if m.retrieval == "pkm":
                assert m.tucker_rank == 1 and m.mcs_cores == 1, "pkm retrieval has no Tucker core: rank 1, 1 core"
            last_t = -1
            for s, t in m.pairs():
                assert 0 <= s <= t < self.n_layer, f"memory pair {s}:{t} outside 0..{self.n_layer - 1}"
                assert s > last_t, "memory intervals must not overlap (s_k+1 > t_k)"
                last_t = t

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        assert not unknown, f"unknown config keys {sorted(unknown)}"
        return cls(**d)

    def save(self, path: str) -> None:
        with open(path, "w") as f:
            f.write(self.to_json() + "\n")

    @classmethod
    def load(cls, path: str) -> "ModelConfig":
        with open(path) as f:
            return cls.from_dict(json.load(f))

    def initial_value_std(self) -> float:
        """The value tables' init std before `Transformer` matches the memory output to the FFN's (when 0 is
        configured): the paper's MLP-style sqrt(E / (2 m H L)) (models/ARCHITECTURE.md, "Initialisation")."""
        m = self.memory
        if m.value_init_std > 0:
            return m.value_init_std
        return math.sqrt(m.expansion / (2 * m.topk * m.heads * self.n_layer))
