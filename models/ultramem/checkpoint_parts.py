"""A training checkpoint in parts small enough to cross to and from the GPU machine, which carries 64 MiB per call
and brings back 8 files of 16 MiB: `write_parts` splits one into files of at most 15 MiB with an index
(parts.json: each part's size and sha256), `read_parts` checks and joins them.

Two ways to make it smaller, both recorded in the index and undone (as far as they can be) on reading:
  weights_only  drop the optimizer state (2x the weights for AdamW); the run resumes with fresh moments and warms
                its lr up again (train.py)
  bf16          tensors of at least 64K elements (the matrices and value tables) in bfloat16; small ones (gains,
                cores, filter vectors) stay float32 so that they round-trip exactly
"""
from __future__ import annotations

import hashlib
import io
import json
import os
from typing import Optional

import torch

PART_BYTES = 15 << 20
INDEX = "parts.json"
SMALL_TENSOR = 1 << 16


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _cast_large(state: dict, dtype: torch.dtype) -> dict:
    return {k: v.to(dtype) if v.is_floating_point() and v.numel() >= SMALL_TENSOR else v for k, v in state.items()}


def write_parts(checkpoint, out_dir: str, weights_only: bool = False, bf16: bool = False,
                part_bytes: int = PART_BYTES) -> dict:
    """Splits a checkpoint (a .pt path, or the dict train.save_checkpoint writes) into out_dir/ckpt.partNNN +
    parts.json; returns the index."""
    state = dict(checkpoint) if isinstance(checkpoint, dict) else torch.load(checkpoint, map_location="cpu")
    if weights_only:
        state.pop("optimizer", None)
    if bf16:
        state["model"] = _cast_large(state["model"], torch.bfloat16)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    data = buffer.getvalue()
    os.makedirs(out_dir, exist_ok=True)
    parts = []
    for i, offset in enumerate(range(0, len(data), part_bytes)):
        chunk = data[offset:offset + part_bytes]
        name = f"ckpt.part{i:03d}"
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(chunk)
        parts.append({"name": name, "bytes": len(chunk), "sha256": _sha256(chunk)})
    index = {"step": state["step"], "weights_only": "optimizer" not in state, "bf16": bf16, "bytes": len(data),
             "sha256": _sha256(data), "parts": parts}
    with open(os.path.join(out_dir, INDEX), "w") as f:
        json.dump(index, f, indent=2)
    return index


def read_parts(folder: str, map_location: Optional[str] = "cpu") -> dict:
    """The checkpoint dict from a folder written by write_parts; bf16 tensors come back as float32."""
    index_path = os.path.join(folder, INDEX)
    if not os.path.exists(index_path):
        raise FileNotFoundError(f"{folder} holds no {INDEX}: not a folder of checkpoint parts")
    with open(index_path) as f:
        index = json.load(f)
    chunks = []
    for part in index["parts"]:
        path = os.path.join(folder, part["name"])
        if not os.path.exists(path):
            raise FileNotFoundError(f"checkpoint part {part['name']} is missing from {folder}")
        with open(path, "rb") as f:
            chunk = f.read()
        if len(chunk) != part["bytes"] or _sha256(chunk) != part["sha256"]:
            raise ValueError(f"checkpoint part {path} is damaged (size or sha256 differs from {INDEX})")
        chunks.append(chunk)
    state = torch.load(io.BytesIO(b"".join(chunks)), map_location=map_location)
    if index["bf16"]:
        state["model"] = _cast_large(state["model"], torch.float32)
    return state
