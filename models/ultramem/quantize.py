"""Weight-only int8 quantization of an exported float graph, written directly with the `onnx` package.

- Backbone matmuls (MatMul with a 2-D float initializer): `com.microsoft.MatMulNBits` with 8-bit weights, one
  symmetric scale per block of 32 input rows per output column, `accuracy_level=4` (MLAS quantizes activations
  per block of 32 to int8 and runs int8 kernels). 4x fewer weight bytes than fp32 at batch 1; measured choices
  (DynamicQuantizeMatMul, accuracy level 0, 4-bit) and their errors and speeds are in models/LOG.md.
- Row lookups (Gather on the embedding and the memory value tables): int8 rows with an
  fp32 scale per row, dequantized after the gather (Gather -> Cast -> Mul by the gathered scale). Only the m rows
  read per token are dequantized. Plain ONNX ops, so it runs in every onnxruntime build.
- `value_bits=4` stores the memory value tables as 4-bit rows instead (half the bytes: the tables are most of a
  model folder): values -7..7 around a zero point of 8 with an fp32 scale per row, byte j holding column j in its
  low nibble and column j + C/2 in its high one, unpacked after the gather with float ops (Floor, Sub, Concat).
- MoE experts (the fused `com.microsoft.MoE` node, moe.py): `com.microsoft.QMoE` with 8-bit weights, one symmetric
  scale per output row of each expert matrix (uint8 values + 128). The operator dequantizes only the experts a call
  routes to and runs fp32 GEMMs. QMoE's blocks of 16 (blocks of 32 do not divide the laptop twin's 464-wide
  experts) time the same and give the same logit error on the bench's shapes, in an 18% larger file (models/LOG.md,
  2026-12-06, "MoE twin with batched dispatch").
- Before quantizing, the backbone matmuls that read the same input (an attention block's q, k and v; an FFN's gate
  and up) are joined into one MatMul over their weights side by side and a Split (`fuse_shared_input_matmuls`). At
  batch 1 each matmul is one kernel call over the same activations; the joined call costs less: decode 0.90x at 512
  tokens, 0.99x at 1,536, prefill level (models/LOG.md, 2026-12-06, fifth session). Scales are per column, so the
  int8 columns are those the separate matmuls would get.
- Kept in float: the memory query projection, keys and scores (retrieval must pick the same slots,
  models/ARCHITECTURE.md, "Cost"), Tucker cores, norms.
"""
from __future__ import annotations

import re
from typing import Dict, Tuple

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

KEEP_FLOAT = re.compile(r"/memories\.\d+/query/")   # matmuls that feed retrieval stay in fp32
QUANTIZED_GATHERS = re.compile(r"^/model/(embed/|memories\.\d+/)")
VALUE_TABLE = re.compile(r"memories\.\d+\.values$")
PROJECTION = re.compile(r"^(/model/.+)/(\w+)/MatMul$")   # /model/blocks.0/attn/wq/MatMul: a module's nn.Linear


def _initializers_and_uses(graph: onnx.GraphProto) -> Tuple[Dict[str, onnx.TensorProto], Dict[str, int]]:
    """The graph's initializers by name, and how many node inputs read each name."""
    uses: Dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1
    return {t.name: t for t in graph.initializer}, uses


def fuse_shared_input_matmuls(model: onnx.ModelProto) -> onnx.ModelProto:
    """Joins the projections of one module that read the same input into one MatMul and a Split, in place. The joined
    node is named after its parts (`/model/blocks.0/attn/wq+wk+wv/MatMul`), so that onnx_import.py splits it back."""
    graph = model.graph
    inits, uses = _initializers_and_uses(graph)
    groups: Dict[tuple, list] = {}
    for node in graph.node:
        named = PROJECTION.match(node.name)
        if (node.op_type == "MatMul" and named and node.input[1] in inits and uses[node.input[1]] == 1
                and len(inits[node.input[1]].dims) == 2 and not KEEP_FLOAT.search(node.name)):
            groups.setdefault((node.input[0], named.group(1)), []).append(node)
    replaced: Dict[str, list] = {}
    joined, dropped = [], set()
    for (x, module), nodes in groups.items():
        if len(nodes) < 2:
            continue
        weights = [numpy_helper.to_array(inits[n.input[1]]) for n in nodes]
        name = f"{module}/{'+'.join(PROJECTION.match(n.name).group(2) for n in nodes)}/MatMul"
        joined += [numpy_helper.from_array(np.concatenate(weights, axis=1), name + ".weight"),
                   numpy_helper.from_array(np.array([w.shape[1] for w in weights], np.int64), name + ".split")]
        replaced[nodes[0].name] = [helper.make_node("MatMul", [x, name + ".weight"], [name + "_output_0"], name=name),
                                   helper.make_node("Split", [name + "_output_0", name + ".split"],
                                                    [n.output[0] for n in nodes], name=name + "/Split", axis=-1)]
        replaced.update({n.name: [] for n in nodes[1:]})
        dropped.update(n.input[1] for n in nodes)
    nodes = [new for node in graph.node for new in replaced.get(node.name, [node])]
    kept = [t for t in graph.initializer if t.name not in dropped]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept + joined)
    return model


BLOCK = 32


def _quantize_blocks(w: np.ndarray, bits: int):
    """(K, N) float -> MatMulNBits layout: uint8 (N, K/BLOCK, BLOCK*bits/8), symmetric around the default zero
    point 2^(bits-1), scales (N * K/BLOCK). 4-bit values are packed two per byte, low nibble first."""
    K, N = w.shape
    blocks = np.pad(w, ((0, (-K) % BLOCK), (0, 0))).T.reshape(N, -1, BLOCK)
    qmax = 2 ** (bits - 1) - 1
    scale = np.abs(blocks).max(axis=-1) / qmax
    scale[scale == 0] = 1.0
    q = (np.clip(np.rint(blocks / scale[..., None]), -qmax, qmax) + qmax + 1).astype(np.uint8)
    if bits == 4:
        q = q[..., 0::2] | (q[..., 1::2] << 4)
    return q, scale.astype(np.float32).reshape(-1)


def _quantize_rows(w: np.ndarray, bits: int = 8):
    """Symmetric per gathered row of an (R, C) table: one scale per row, shaped (R, 1) to broadcast.
    8 bits: int8 values. 4 bits: uint8 (R, C/2), column j in the low nibble of byte j, column j + C/2 in the high
    one, each stored as value + 8."""
    qmax = 2 ** (bits - 1) - 1
    scale = np.abs(w).max(axis=1, keepdims=True) / qmax
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(w / scale), -qmax, qmax)
    if bits == 4:
        assert w.shape[1] % 2 == 0, "4-bit rows pack two columns per byte"
        half = w.shape[1] // 2
        return ((q[:, :half] + 8) + 16 * (q[:, half:] + 8)).astype(np.uint8), scale.astype(np.float32)
    return q.astype(np.int8), scale.astype(np.float32)


def _quantize_experts(w: np.ndarray):
    """(E, N, K) float expert weights, row n of expert e an output -> QMoE's 8-bit layout: uint8 (E, N, K) holding
    value + 128, and scales (E, N)."""
    E, N, K = w.shape
    q, scale = _quantize_rows(w.reshape(E * N, K))
    return (q.astype(np.int16) + 128).astype(np.uint8).reshape(E, N, K), scale.reshape(E, N)


def _dequantize_gathered(base: str, ids: str, out: str, name: str, bits: int):
    """Nodes that gather rows of base_int8 (or packed base_int4) and base_scale by `ids` and write floats to `out`."""
    nodes = [helper.make_node("Gather", [f"{base}_int{bits}", ids], [out + "_q"], name=name + "_q"),
             helper.make_node("Cast", [out + "_q"], [out + "_f"], to=TensorProto.FLOAT, name=name + "_cast"),
             helper.make_node("Gather", [base + "_scale", ids], [out + "_s"], name=name + "_s")]
    if bits == 8:
        return nodes + [helper.make_node("Mul", [out + "_f", out + "_s"], [out], name=name + "_dq")]
    return nodes + [  # byte = low + 16 * high, each nibble value + 8
        helper.make_node("Div", [out + "_f", base + "_sixteen"], [out + "_d"], name=name + "_div"),
        helper.make_node("Floor", [out + "_d"], [out + "_hi"], name=name + "_hi"),
        helper.make_node("Mul", [out + "_hi", base + "_sixteen"], [out + "_hi16"], name=name + "_hi16"),
        helper.make_node("Sub", [out + "_f", out + "_hi16"], [out + "_lo"], name=name + "_lo"),
        helper.make_node("Concat", [out + "_lo", out + "_hi"], [out + "_u"], axis=-1, name=name + "_cat"),
        helper.make_node("Sub", [out + "_u", base + "_eight"], [out + "_c"], name=name + "_center"),
        helper.make_node("Mul", [out + "_c", out + "_s"], [out], name=name + "_dq"),
    ]


def quantize_model(model: onnx.ModelProto, bits: int = 8, accuracy_level: int = 4,
                   value_bits: int = 8) -> onnx.ModelProto:
    assert value_bits in (4, 8), value_bits
    fuse_shared_input_matmuls(model)
    graph = model.graph
    inits, uses = _initializers_and_uses(graph)

    new_nodes, new_inits, dropped = [], [], set()
    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in inits and not KEEP_FLOAT.search(node.name):
            w = numpy_helper.to_array(inits[node.input[1]])
            if w.ndim == 2 and w.dtype == np.float32 and uses[node.input[1]] == 1:
                q, scale = _quantize_blocks(w, bits)
                base = node.input[1]
                new_inits += [numpy_helper.from_array(q, base + "_q8"), numpy_helper.from_array(scale, base + "_scale")]
                new_nodes.append(helper.make_node("MatMulNBits", [node.input[0], base + "_q8", base + "_scale"],
                                                  list(node.output), name=node.name + "_q8", domain="com.microsoft",
                                                  K=w.shape[0], N=w.shape[1], bits=bits, block_size=BLOCK,
                                                  accuracy_level=accuracy_level))
                dropped.add(base)
                continue
        if (node.op_type == "Gather" and node.input[0] in inits and QUANTIZED_GATHERS.search(node.name)
                and uses[node.input[0]] == 1):
            w = numpy_helper.to_array(inits[node.input[0]])
            axis = next((a.i for a in node.attribute if a.name == "axis"), 0)
            if w.dtype == np.float32 and w.ndim == 2 and axis == 0:
                base = node.input[0]
                row_bits = value_bits if VALUE_TABLE.search(base) else 8
                q, scale = _quantize_rows(w, row_bits)
                new_inits += [numpy_helper.from_array(q, f"{base}_int{row_bits}"),
                              numpy_helper.from_array(scale, base + "_scale")]
                if row_bits == 4:
                    new_inits += [numpy_helper.from_array(np.array(16.0, np.float32), base + "_sixteen"),
                                  numpy_helper.from_array(np.array(8.0, np.float32), base + "_eight")]
                new_nodes += _dequantize_gathered(base, node.input[1], node.output[0], node.name, row_bits)
                dropped.add(base)
                continue
        if node.op_type == "MoE" and node.domain == "com.microsoft":
            x, router_logits, fc1, fc1_bias, fc2 = node.input
            assert not fc1_bias, "expert biases are not quantized"
            for base in (fc1, fc2):
                q, scale = _quantize_experts(numpy_helper.to_array(inits[base]))
                new_inits += [numpy_helper.from_array(q, base + "_q8"), numpy_helper.from_array(scale, base + "_scale")]
                dropped.add(base)
            inputs = [x, router_logits, fc1 + "_q8", fc1 + "_scale", "", fc2 + "_q8", fc2 + "_scale"]
            attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            new_nodes.append(helper.make_node("QMoE", inputs, list(node.output), name=node.name + "_q8",
                                              domain="com.microsoft", expert_weight_bits=8, **attributes))
            continue
        new_nodes.append(node)

    kept = [t for t in graph.initializer if t.name not in dropped]
    del graph.node[:]
    graph.node.extend(new_nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept + new_inits)
    if not any(op.domain == "com.microsoft" for op in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return model


def quantize_file(src: str, dst: str, bits: int = 8, accuracy_level: int = 4, value_bits: int = 8) -> None:
    onnx.save(quantize_model(onnx.load(src), bits, accuracy_level, value_bits), dst)
