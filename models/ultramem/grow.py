"""Function-preserving growth: a trained model becomes a deeper one with a wider FFN that computes exactly what it
computed, and trains on from there (Net2Net, Chen et al. 2016; depth up-scaling with identity blocks).

Why: a GPU lease fits about 1,000 s of training, too little for a larger model from scratch to catch up with one
that has already seen about a billion tokens; grown, the larger shape starts where the trained one stands.

- New blocks are spread evenly through the stack with their residual branches' output projections (attention
  `wo`, FFN `w2`) at zero: each adds nothing at first, so it is the identity. The projections still receive
  gradient (their inputs are not zero), and once they move the rest of the block learns.
- New FFN hidden units get the usual random gate and up rows and zero columns in `w2`.
- The memory layers keep their tables, keys and cores; each pair s:t moves with the two blocks it reads and
  writes, so every layer reads and writes the residual stream where it did before.
"""
from __future__ import annotations

from typing import List

import torch

from .config import MemoryConfig, ModelConfig
from .model import SwiGLU, Transformer


def old_block_positions(old_layers: int, new_layers: int) -> List[int]:
    """Where each old block sits in the grown stack: the new blocks are spread evenly, one after every
    old_layers / (new_layers - old_layers) old blocks, the last one at the very end."""
    extra = new_layers - old_layers
    if extra < 0:
        raise ValueError(f"cannot grow {old_layers} blocks into {new_layers}")
    positions, inserted = [], 0
    for i in range(old_layers):
        positions.append(i + inserted)
        inserted = (i + 1) * extra // old_layers
    return positions


def grown_config(cfg: ModelConfig, n_layer: int, ffn_hidden: int) -> ModelConfig:
    """cfg with n_layer blocks and ffn_hidden units; the memory placement follows the old blocks."""
    if cfg.architecture == "moe":
        raise ValueError("growing a mixture of experts is not supported")
    if ffn_hidden < cfg.ffn_hidden:
        raise ValueError(f"cannot narrow the FFN from {cfg.ffn_hidden} to {ffn_hidden}")
    d = cfg.to_dict()
    d.update(n_layer=n_layer, ffn_hidden=ffn_hidden)
    if cfg.memory is not None:
        pos = old_block_positions(cfg.n_layer, n_layer)
        memory = dict(d["memory"])
        memory["placement"] = ",".join(f"{pos[s]}:{pos[t]}" for s, t in cfg.memory.pairs())
        d["memory"] = MemoryConfig(**memory)
    return ModelConfig.from_dict(d)


@torch.no_grad()
def grow(model: Transformer, target: ModelConfig, seed: int = 0) -> Transformer:
    """model grown into target, which must be grown_config(model.cfg, target.n_layer, target.ffn_hidden)."""
    expected = grown_config(model.cfg, target.n_layer, target.ffn_hidden)
    if expected.to_dict() != target.to_dict():
        differing = sorted(k for k, v in expected.to_dict().items() if target.to_dict()[k] != v)
        raise ValueError(f"{target} is not a growth of {model.cfg}: {differing} differ from the grown config "
                         f"{expected}")
    torch.manual_seed(seed)  # the new weights' random init
    grown = Transformer(target).to(model.embed.weight.device)
    grown.embed.load_state_dict(model.embed.state_dict())
    grown.norm.load_state_dict(model.norm.state_dict())
    for old, new in zip(model.memories, grown.memories):
        new.load_state_dict(old.state_dict())
    positions = old_block_positions(model.cfg.n_layer, target.n_layer)
    for new_index, block in enumerate(grown.blocks):
        if new_index not in positions:  # a new block: the identity until its output projections move
            block.attn.wo.weight.zero_()
            block.ffn.w2.weight.zero_()
    h = model.cfg.ffn_hidden
    for old_index, new_index in enumerate(positions):
        old, new = model.blocks[old_index], grown.blocks[new_index]
        new.attn_norm.load_state_dict(old.attn_norm.state_dict())
        new.ffn_norm.load_state_dict(old.ffn_norm.state_dict())
        new.attn.load_state_dict(old.attn.state_dict())
        assert isinstance(old.ffn, SwiGLU) and isinstance(new.ffn, SwiGLU)
        new.ffn.w1.weight[:h] = old.ffn.w1.weight  # the extra rows keep their random init
        new.ffn.w3.weight[:h] = old.ffn.w3.weight
        new.ffn.w2.weight.zero_()
        new.ffn.w2.weight[:, :h] = old.ffn.w2.weight
    return grown
