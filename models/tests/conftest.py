"""Shared fixtures: tiny configs of each architecture. Run: python3 -m pytest -q models/tests"""

import pytest
import torch

from models.ultramem import MemoryConfig, ModelConfig, MoEConfig


def tiny_memory(**overrides) -> MemoryConfig:
    base = dict(placement="0:1,2:3", n_keys=16, expansion=4, key_dim=16, value_dim=32, topk=8)
    base.update(overrides)
    return MemoryConfig(**base)


def tiny_config(architecture: str = "ultramem", **overrides) -> ModelConfig:
    base = dict(architecture=architecture, vocab_size=300, n_layer=4, d_model=64, n_head=4, n_kv_head=2,
                ffn_hidden=128, context_length=256)
    if architecture == "ultramem":
        base["memory"] = tiny_memory()
    if architecture == "moe":
        base["moe"] = MoEConfig(n_experts=4, top_k=2, expert_hidden=64)
    base.update(overrides)
    return ModelConfig(**base)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
