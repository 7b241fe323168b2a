"""Export to the ONNX graph the extension runs (contract: models/README.md), float32 and int8.

The memory layers are folded first (key LayerNorm, rank-1 filter vectors u, t;
models/ARCHITECTURE.md, "Inference folding"), so the graph holds only constant tables: two TopK, a few Gathers and
MatMuls per memory layer, no Einsum and no SVD.
"""
from __future__ import annotations

import copy
from typing import List

import onnx
import torch
import torch.nn as nn

from .gqa import CapacityAttention, CapacityKV, rope_caches
from .model import Transformer


class DecoderGraph(nn.Module):
    """The contract's signature: (input_ids, num_logits, past_key_0, past_value_0, ...) ->
    (logits, present_key_0, present_value_0, ...)."""

    def __init__(self, model: Transformer):
        super().__init__()
        self.model = model

    def forward(self, input_ids, num_logits, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(len(past_flat) // 2)]
        logits, presents = self.model(input_ids, past, num_logits=num_logits)
        return (logits, *[t for kv in presents for t in kv])


class CapacityDecoderGraph(nn.Module):
    """The capacity layout's signature: (input_ids, num_logits, past_length, past_key_0, past_value_0, ...) with
    past buffers [1, Hkv, C, D] -> (logits, present_key_0, present_value_0, ...), each present [1, Hkv, T, D]: the
    new tokens' entries, for the caller to write into its buffers at past_length (gqa.py)."""

    def __init__(self, model: Transformer):
        super().__init__()
        self.model = model

    def forward(self, input_ids, num_logits, past_length, *past_flat):
        past = [CapacityKV(past_flat[2 * i], past_flat[2 * i + 1], past_length) for i in range(len(past_flat) // 2)]
        logits, presents = self.model(input_ids, past, num_logits=num_logits)
        return (logits, *[t for kv in presents for t in kv])


def io_names(n_layer: int, kv_layout: str = "concat"):
    past = [f"past_{kind}_{i}" for i in range(n_layer) for kind in ("key", "value")]
    present = [f"present_{kind}_{i}" for i in range(n_layer) for kind in ("key", "value")]
    lengths = ["past_length"] if kv_layout == "capacity" else []
    return ["input_ids", "num_logits"] + lengths + past, ["logits"] + present


def _exporter_kwargs() -> dict:
    major, minor = (int(v) for v in torch.__version__.split(".")[:2])
    # PyTorch >= 2.5 defaults to the dynamo exporter; the TorchScript one handles topk/gather/int div as we need
    return {"dynamo": False} if (major, minor) >= (2, 5) else {}


def export_float(model: Transformer, path: str, opset: int = 17, kv_layout: str = "concat") -> None:
    """kv_layout "concat": the past is [1, Hkv, P, D] and present its concatenation with the new tokens (contract
    version 1); "capacity": fixed-capacity buffers written in place by GroupQueryAttention (gqa.py)."""
    assert kv_layout in ("concat", "capacity"), kv_layout
    cfg = model.cfg
    graph_model = copy.deepcopy(model).float().eval()
    graph_model.fold_for_inference()
    inputs, outputs = io_names(cfg.n_layer, kv_layout)
    ids = torch.zeros(1, 3, dtype=torch.long)
    num_logits = torch.tensor([1], dtype=torch.long)
    dynamic = {"input_ids": {1: "new_tokens"}, "logits": {1: "num_logits"}}
    if kv_layout == "capacity":
        cos, sin = rope_caches(cfg.context_length, cfg.head_dim, cfg.rope_theta)
        for block in graph_model.blocks:
            block.attn = CapacityAttention(block.attn, cos, sin)
        graph = CapacityDecoderGraph(graph_model)
        lengths = [torch.tensor([0], dtype=torch.long)]
        past = [torch.zeros(1, cfg.n_kv_head, cfg.context_length, cfg.head_dim) for _ in range(2 * cfg.n_layer)]
        buffers = {**{name: {2: "capacity"} for name in inputs[3:]}, **{name: {2: "new_tokens"} for name in outputs[1:]}}
    else:
        graph, lengths = DecoderGraph(graph_model), []
        past = [torch.zeros(1, cfg.n_kv_head, 2, cfg.head_dim) for _ in range(2 * cfg.n_layer)]
        buffers = {**{name: {2: "past_tokens"} for name in inputs[2:]},
                   **{name: {2: "total_tokens"} for name in outputs[1:]}}
    with torch.no_grad():
        torch.onnx.export(graph, (ids, num_logits, *lengths, *past), path, input_names=inputs,
                          output_names=outputs, dynamic_axes={**dynamic, **buffers}, opset_version=opset,
                          do_constant_folding=True, **_exporter_kwargs())
    strip_empty_trailing_inputs(path)


def strip_empty_trailing_inputs(path: str) -> None:
    """Drop omitted optional inputs written as "" at the end of a node's inputs (LayerNormalization's bias here).

    onnxruntime 1.30 crashes while optimizing (level >= extended) a LayerNormalization whose bias is "";
    leaving the optional input out is the same node by the ONNX spec and loads fine.
    """
    model = onnx.load(path)
    for node in model.graph.node:
        while node.input and node.input[-1] == "":
            del node.input[-1]
    onnx.save(model, path)
