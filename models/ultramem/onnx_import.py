"""A model folder's graph read back into a trainable Transformer, so that a shipped model can train further.

The exported graph is folded (memory.py `fold_for_inference`) and int8 (quantize.py); the import undoes both:
- MatMulNBits blocks and int8 row tables are dequantized: each weight moves by at most half an int8 step of its
  block of 32 (or of its table row), an error further training absorbs in its first steps;
- the tied embedding comes from the output projection (`/model/MatMul`), whose per-32 scales are finer than the
  embedding table's per-row ones;
- a memory layer keeps its per-rank keys after their LayerNorm: R = LN(K) * g, one gain g (D_k,) for all keys.
  Every row of LN(K) has zero mean, so x = 1/g spans the null space of the stacked rows of R: x is R's last right
  singular vector, scaled so that the rows of R * x have unit variance. K := R * x then gives LN(K) * g = R again
  (LayerNorm maps a zero-mean, unit-variance row to itself), and the sign of x cancels. Exact up to LayerNorm's
  eps: a key row of variance v was normed to variance v / (v + eps), not 1, so a key comes back off by a relative
  eps / 2v (1e-4 to 1e-3 for the laptop model), well inside the int8 error of the other weights;
- the rank-1 filter vectors u, t (models/ARCHITECTURE.md, "TDQKR") follow from the folded filter keys
  sum_rho u_rho R^(rho) by least squares, so that the first `refresh_tucker_filter` keeps their signs.
"""
from __future__ import annotations

import os
import re
from typing import Dict

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from .config import ModelConfig
from .model import Transformer

LINEAR_NODE = re.compile(r"^/model/(.+)/MatMul(_q8)?$")   # /model/blocks.0/attn/wq/MatMul_q8 -> blocks.0.attn.wq
MEMORY_NODE = re.compile(r"^/model/memories\.(\d+)/")


def _dequantize_blocks(q: np.ndarray, scale: np.ndarray, k: int, bits: int) -> np.ndarray:
    """MatMulNBits weights (N, K/32, 32*bits/8) uint8 + scales (N*K/32) -> the (N, K) weight of an nn.Linear."""
    if bits == 4:
        q = np.stack([q & 0x0F, q >> 4], axis=-1).reshape(q.shape[0], q.shape[1], -1)
    values = q.astype(np.float32) - 2 ** (bits - 1)
    values *= scale.reshape(q.shape[0], q.shape[1], 1)
    return values.reshape(q.shape[0], -1)[:, :k]


def _constants(graph: onnx.GraphProto) -> Dict[str, np.ndarray]:
    tensors = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            value = next((a.t for a in node.attribute if a.name == "value"), None)
            if value is not None:
                tensors[node.output[0]] = numpy_helper.to_array(value)
    return tensors


def _row_values(q: np.ndarray, packed_4bit: bool) -> np.ndarray:
    """Stored row values before their scale: int8 as they are, 4-bit nibbles unpacked (quantize._quantize_rows)."""
    if not packed_4bit:
        return q.astype(np.float32)
    return np.concatenate([q & 15, q >> 4], axis=1).astype(np.float32) - 8


def _keys_and_gain(rank_keys: np.ndarray):
    """rank_keys (2, n, D_k, r) = LN(K) * g, K stored as (2, r, n, D_k) -> K, g (module docstring)."""
    rows = rank_keys.transpose(0, 3, 1, 2).reshape(-1, rank_keys.shape[2]).astype(np.float64)
    x = np.linalg.svd(rows, full_matrices=False)[2][-1]
    x /= np.sqrt(np.mean((rows * x).var(axis=1))) * np.sign(x.sum())  # the sign cancels; keep the gain positive
    normed = (rows * x).reshape(2, rank_keys.shape[3], rank_keys.shape[1], rank_keys.shape[2])
    mean_residual = float(np.abs(normed.mean(axis=-1)).max())
    assert mean_residual < 1e-3, f"memory keys are not LayerNorm outputs times one gain (row mean {mean_residual})"
    return normed.astype(np.float32), (1.0 / x).astype(np.float32)


def _filter_vector(filter_keys: np.ndarray, rank_keys: np.ndarray) -> np.ndarray:
    """filter_keys (D_k, n) = sum_rho u_rho rank_keys[:, :, rho].T -> u (r,), by least squares."""
    basis = rank_keys.transpose(2, 1, 0).reshape(rank_keys.shape[2], -1)  # (r, D_k * n)
    u = np.linalg.lstsq(basis.T, filter_keys.reshape(-1), rcond=None)[0]
    return u.astype(np.float32)


def state_from_graph(graph_path: str, cfg: ModelConfig) -> Dict[str, torch.Tensor]:
    """The Transformer state dict (float32) that exported `graph_path` (float or int8)."""
    graph = onnx.load(graph_path).graph
    tensors = _constants(graph)
    state: Dict[str, np.ndarray] = {}
    rank_keys: Dict[int, list] = {}
    filter_keys: Dict[int, np.ndarray] = {}
    for name, value in tensors.items():  # norms, cores, query gains, perm: named after their parameter
        base = name[len("model."):] if name.startswith("model.") else None
        if base and not base.endswith(("_int8", "_int4", "_scale", "_sixteen", "_eight")):
            state[base] = value
    splits = {node.input[0]: tensors[node.input[1]]  # the Split after each MatMul that quantize.py joined
              for node in graph.node if node.op_type == "Split" and "+" in node.name}
    for node in graph.node:
        linear, memory = LINEAR_NODE.match(node.name), MEMORY_NODE.match(node.name)
        if node.op_type == "MatMulNBits":
            attrs = {a.name: a.i for a in node.attribute}
            weight = _dequantize_blocks(tensors[node.input[1]], tensors[node.input[2]], attrs["K"], attrs["bits"])
        elif node.op_type == "MatMul" and node.input[1] in tensors and tensors[node.input[1]].ndim == 2:
            weight = tensors[node.input[1]].T
        elif node.op_type == "Gather" and node.name.endswith("_q") and node.input[0].endswith(("_int8", "_int4")):
            table = node.input[0][len("model."):-len("_int8")]
            if table != "embed.weight":  # the tied embedding comes from the output projection, below
                scale = tensors[node.input[0][:-len("_int8")] + "_scale"]
                state[table] = _row_values(tensors[node.input[0]], node.input[0].endswith("_int4")) * scale
            continue
        elif memory and node.op_type == "Gather" and node.input[0] in tensors \
                and tensors[node.input[0]].ndim == 3 and tensors[node.input[0]].dtype == np.float32:
            keys = tensors[node.input[0]]
            if keys.shape[0] == 2 * cfg.memory.n_keys:  # (2n, r, D_k): both sides, gathered by the candidates
                rank_keys[int(memory.group(1))] = list(keys.reshape(2, cfg.memory.n_keys, *keys.shape[1:])
                                                       .transpose(0, 1, 3, 2))
            else:  # graphs exported before 2026-12-06: (n, D_k, r) per side
                rank_keys.setdefault(int(memory.group(1)), []).append(keys)  # side 0, then 1
            continue
        elif memory and node.op_type == "MatMul" and tensors.get(node.input[1], np.empty(0)).ndim in (3, 4) \
                and tensors[node.input[1]].shape[-1] == cfg.memory.n_keys:
            keys_t = tensors[node.input[1]]  # (2, D_k, n), before 2026-12-06 (2, 1, D_k, n)
            filter_keys[int(memory.group(1))] = keys_t if keys_t.ndim == 3 else keys_t[:, 0]
            continue
        else:
            continue
        if node.name in ("/model/MatMul", "/model/MatMul_q8"):
            state["embed.weight"] = weight
        elif linear and "+" in linear.group(1):  # projections joined by quantize.py: a MatMul then a Split
            module, parts = linear.group(1).rsplit("/", 1)
            rows = np.split(weight, np.cumsum(splits[node.output[0]])[:-1], axis=0)
            for part, part_weight in zip(parts.split("+"), rows):
                state[f"{module}/{part}".replace("/", ".") + ".weight"] = part_weight
        elif linear:
            state[linear.group(1).replace("/", ".") + ".weight"] = weight
    for k, sides in rank_keys.items():
        stacked = np.stack(sides)  # (2, n, D_k, r)
        state[f"memories.{k}.keys"], state[f"memories.{k}.key_norm"] = _keys_and_gain(stacked)
        if cfg.memory.retrieval == "tdqkr":
            state[f"memories.{k}.filter_u"] = _filter_vector(filter_keys[k][0], stacked[0])
            state[f"memories.{k}.filter_t"] = _filter_vector(filter_keys[k][1], stacked[1])
    return {name: torch.from_numpy(np.array(value)) for name, value in state.items()}


def load_model_folder(folder: str) -> Transformer:
    """A model folder (config.json + model.onnx) -> a Transformer with its weights, ready to train further."""
    for name in ("config.json", "model.onnx"):
        if not os.path.isfile(os.path.join(folder, name)):
            raise FileNotFoundError(f"{folder} is not a model folder: {name} is missing")
    model = Transformer(ModelConfig.load(os.path.join(folder, "config.json")))
    state = state_from_graph(os.path.join(folder, "model.onnx"), model.cfg)
    expected = model.state_dict()
    for name in [n for n in state if n.endswith(".perm")]:  # the graph shares one; every layer's comes from the seed
        if not torch.equal(state.pop(name), expected[name]):
            raise ValueError(f"{folder}/model.onnx: {name} differs from config.json's perm_seed")
    seeded = {n for n in expected if n.endswith(".perm")
              or (".filter_" in n and model.cfg.memory.retrieval != "tdqkr")}  # filter vectors unused by PKM
    state.update({n: expected[n] for n in seeded})
    missing = sorted(set(expected) - set(state))
    wrong = sorted(n for n in set(expected) & set(state) if tuple(expected[n].shape) != tuple(state[n].shape))
    if missing or wrong:
        raise ValueError(f"{folder}/model.onnx does not match config.json: missing {missing}, wrong shape {wrong}")
    model.load_state_dict({name: state[name].to(expected[name].dtype) for name in expected})
    return model
