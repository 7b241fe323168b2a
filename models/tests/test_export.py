"""The exported ONNX graphs against PyTorch, run in onnxruntime-node (the extension's runtime).

Tolerances: float32 export: 1e-4 on every logit. int8 export (8-bit block-quantized matmuls, int8 rows for the
embedding, value tables and experts, int8 activations inside the matmuls): mean |logit difference| <= 0.15 and
max <= 1.0 (a memory layer's top-m can
flip when its input moves a little, which shifts that position's logits as a whole; models/LOG.md), and the same
greedy tokens as PyTorch on the committed fixture's prompts (here as the argmax along that path; the worker decodes
them in test/worker/worker.test.ts).
"""
import json
import os

import numpy as np
import onnx
import pytest
import torch

from models.tests.conftest import tiny_config, tiny_memory
from models.ultramem import Transformer
from models.ultramem.export import export_float
from models.ultramem.presets import laptop
from models.ultramem.ort_check import argmax_along, run_graph
from models.ultramem.quantize import quantize_file

FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tiny-fixture")
INT8_MEAN_TOLERANCE, INT8_MAX_TOLERANCE = 0.15, 1.0  # also in fixture.test.mjs


def config_named(name: str):
    """The tiny configs, one with two memory query heads, and the shipped model's shape (random weights)."""
    if name == "laptop":
        return laptop()
    if name == "ultramem-heads":
        return tiny_config(memory=tiny_memory(heads=2))
    return tiny_config(name)


@pytest.fixture(scope="module", params=["ultramem", "dense", "moe", "ultramem-heads", "laptop"])
def exported(request, tmp_path_factory):
    torch.manual_seed(1)
    model = Transformer(config_named(request.param)).eval()
    folder = tmp_path_factory.mktemp(request.param)
    float_path, int8_path = str(folder / "model.float.onnx"), str(folder / "model.onnx")
    export_float(model, float_path)
    quantize_file(float_path, int8_path)
    return model, float_path, int8_path


def reference_logits(model, ids):
    with torch.no_grad():
        return model(torch.tensor([ids]))[0].numpy()


# prefill 9 tokens (logits for all of them), decode 2 tokens, roll the cache back to 10 and prefill 4 more
CALLS = [{"ids": list(range(5, 14)), "numLogits": 9}, {"ids": [40]}, {"ids": [41]},
         {"ids": [42, 43, 44, 45], "numLogits": 4, "keep": 10}]
SEQUENCE = list(range(5, 14)) + [40, 41]
ROLLED = list(range(5, 14)) + [40, 42, 43, 44, 45]


def graph_and_reference_logits(model, path):
    """Both sides of every call, stacked: the graph's logits and PyTorch's full-sequence logits."""
    got = run_graph(path, CALLS)
    full, rolled = reference_logits(model, SEQUENCE), reference_logits(model, ROLLED)
    graph = np.concatenate([got[0][0], got[1][0], got[2][0], got[3][0]])
    reference = np.concatenate([full[0, :11], rolled[0, 10:]])
    return graph, reference


def test_float_export_matches_pytorch_through_prefill_decode_and_rollback(exported):
    model, float_path, _ = exported
    graph, reference = graph_and_reference_logits(model, float_path)
    np.testing.assert_allclose(graph, reference, atol=1e-4, rtol=0)


def test_int8_export_stays_within_tolerance(exported):
    model, _, int8_path = exported
    graph, reference = graph_and_reference_logits(model, int8_path)
    error = np.abs(graph - reference)
    assert error.mean() <= INT8_MEAN_TOLERANCE and error.max() <= INT8_MAX_TOLERANCE, (error.mean(), error.max())


def test_int8_export_is_smaller_and_has_no_einsum(exported):
    _, float_path, int8_path = exported
    assert os.path.getsize(int8_path) < 0.6 * os.path.getsize(float_path)
    ops = {n.op_type for n in onnx.load(int8_path).graph.node}
    assert "Einsum" not in ops and "MatMulNBits" in ops


def test_int8_export_joins_each_modules_projections(exported):
    """quantize.py joins q, k and v, and the FFN's gate and up, into one MatMulNBits and a Split each (decode 0.90x at
    512 tokens on the shipped shape); the int8 tolerance above holds for the joined graph, and onnx_import.py reads
    it back (test_onnx_import.py)."""
    model, _, int8_path = exported
    names = [n.name for n in onnx.load(int8_path).graph.node if n.op_type == "MatMulNBits"]
    blocks = len(model.blocks)
    assert sum(n.endswith("/attn/wq+wk+wv/MatMul_q8") for n in names) == blocks, names
    ffn_joined = sum(n.endswith("/ffn/w1+w3/MatMul_q8") for n in names)
    assert ffn_joined == (0 if model.cfg.moe else blocks), names
    assert not any(n.endswith(("/wq/MatMul_q8", "/wk/MatMul_q8", "/w1/MatMul_q8")) for n in names), names


def test_memory_layers_export_few_nodes(exported):
    """Every node costs a decode step about a microsecond in onnxruntime (memory.py): a memory layer exports in at
    most 60 nodes besides constants (66 before the layer was written for the CPU, 121 before that)."""
    model, float_path, _ = exported
    if not model.memories:
        pytest.skip("no memory layers")
    nodes = [n for n in onnx.load(float_path).graph.node if "/memories.0/" in n.name and n.op_type != "Constant"]
    assert len(nodes) <= 60, len(nodes)


def test_moe_exports_one_fused_node_per_layer(exported):
    """The MoE FFN is one onnxruntime MoE node per layer (QMoE with uint8 experts in the int8 graph), not the 16
    NonZero / Gather / MatMul / ScatterElements subgraphs per layer of a per-expert loop (moe.py, quantize.py)."""
    model, float_path, int8_path = exported
    if model.cfg.architecture != "moe":
        pytest.skip("MoE only")
    per_expert_ops = {"NonZero", "ScatterND", "ScatterElements", "Loop", "If"}
    for path, fused_op in ((float_path, "MoE"), (int8_path, "QMoE")):
        graph = onnx.load(path).graph
        ops = [n.op_type for n in graph.node]
        assert ops.count(fused_op) == model.cfg.n_layer and not per_expert_ops & set(ops), path
        ffn_matmuls = [n.name for n in graph.node if "/ffn/" in n.name and n.op_type.startswith("MatMul")]
        assert all("/ffn/router/" in name for name in ffn_matmuls), ffn_matmuls
    inits = {t.name: t for t in onnx.load(int8_path).graph.initializer}
    for node in onnx.load(int8_path).graph.node:
        if node.op_type == "QMoE":
            assert [inits[node.input[i]].data_type for i in (2, 5)] == [onnx.TensorProto.UINT8] * 2


def test_moe_graph_matches_pytorch_from_one_token_to_a_long_prompt(exported):
    """The fused MoE node routes and dispatches a single token and a prompt of 250 at once as the model does."""
    model, float_path, _ = exported
    if model.cfg.architecture != "moe":
        pytest.skip("MoE only")
    for tokens in (1, 250):
        ids = [(7 * i + 5) % model.cfg.vocab_size for i in range(tokens)]
        [logits] = run_graph(float_path, [{"ids": ids, "numLogits": tokens}])
        np.testing.assert_allclose(logits[0], reference_logits(model, ids)[0], atol=1e-4, rtol=0)


def test_graph_io_follows_the_contract(exported):
    model, float_path, _ = exported
    graph = onnx.load(float_path).graph
    L = model.cfg.n_layer
    names_in = [i.name for i in graph.input]
    names_out = [o.name for o in graph.output]
    assert names_in == ["input_ids", "num_logits"] + [f"past_{k}_{i}" for i in range(L) for k in ("key", "value")]
    assert names_out == ["logits"] + [f"present_{k}_{i}" for i in range(L) for k in ("key", "value")]


def load_golden():
    with open(os.path.join(FIXTURE, "golden.json")) as f:
        return json.load(f)


@pytest.mark.parametrize("graph", ["model.float.onnx", "model.onnx"])
def test_committed_fixture_gives_pytorch_greedy_tokens_as_its_argmax(graph):
    """Teacher-forced: the graph's argmax along PyTorch's greedy path is that path (the worker decodes it:
    test/worker/worker.test.ts)."""
    for prompt in load_golden()["prompts"]:
        assert argmax_along(os.path.join(FIXTURE, graph), prompt["ids"], prompt["greedy"]) == prompt["greedy"], \
            prompt["text"]


def test_committed_fixture_first_logits_match_pytorch_reference():
    golden = load_golden()
    for prompt in golden["prompts"]:
        got = run_graph(os.path.join(FIXTURE, "model.float.onnx"), [{"ids": prompt["ids"], "numLogits": 1}])
        np.testing.assert_allclose(got[0][0, 0], np.asarray(prompt["firstLogits"]), atol=1e-4, rtol=0)


def test_committed_fixture_is_small_and_its_manifest_checks_out():
    from models.ultramem.model_folder import sha256
    with open(os.path.join(FIXTURE, "manifest.json")) as f:
        manifest = json.load(f)
    total = 0
    for name, meta in manifest["files"].items():
        path = os.path.join(FIXTURE, name)
        assert os.path.getsize(path) == meta["bytes"] and sha256(path) == meta["sha256"], name
        total += meta["bytes"]
    assert total < 5_000_000


def test_4bit_value_rows_read_back_as_their_quantized_tables(tmp_path):
    """quantize_file(value_bits=4): the graph's unpacking (float ops after the gather) gives the same table values
    as the packing's own inverse (onnx_import), within the int8 backbone's tolerance, at under 60% of the bytes."""
    import copy
    from models.ultramem.onnx_import import _row_values
    from models.ultramem.quantize import _quantize_rows
    torch.manual_seed(1)
    model = Transformer(tiny_config(memory=tiny_memory(value_dim=64))).eval()
    float_path, int8_path, int4_path = (str(tmp_path / n) for n in ("f.onnx", "q8.onnx", "q4.onnx"))
    export_float(model, float_path)
    quantize_file(float_path, int8_path)
    quantize_file(float_path, int4_path, value_bits=4)
    reference = copy.deepcopy(model)
    with torch.no_grad():
        for memory in reference.memories:
            q, scale = _quantize_rows(memory.values.numpy(), 4)
            memory.values.copy_(torch.from_numpy(_row_values(q, True) * scale))
    graph, expected = graph_and_reference_logits(reference, int4_path)
    error = np.abs(graph - expected)
    assert error.mean() <= INT8_MEAN_TOLERANCE and error.max() <= INT8_MAX_TOLERANCE, (error.mean(), error.max())
    table_bytes = {path: sum(t.raw_data.__len__() for t in onnx.load(path).graph.initializer if "values_int" in t.name)
                   for path in (int8_path, int4_path)}
    assert table_bytes[int4_path] * 2 == table_bytes[int8_path]


def test_the_studys_folder_size_estimate_matches_the_shipped_shape(exported):
    """study.folder_mb sizes candidate shapes against the folder budget without exporting them."""
    from models.ultramem.study import folder_mb
    model, _, int8_path = exported
    if model.cfg != laptop():
        pytest.skip("sized on the shipped shape only (tiny graphs are mostly structure)")
    assert folder_mb(model.cfg) == pytest.approx(os.path.getsize(int8_path) / 1e6, rel=0.03)


@pytest.fixture(scope="module", params=["ultramem", "dense", "moe", "ultramem-heads"])
def exported_capacity(request, tmp_path_factory):
    torch.manual_seed(1)
    model = Transformer(config_named(request.param)).eval()
    folder = tmp_path_factory.mktemp(request.param + "-capacity")
    float_path, int8_path = str(folder / "model.float.onnx"), str(folder / "model.onnx")
    export_float(model, float_path, kv_layout="capacity")
    quantize_file(float_path, int8_path)
    return model, float_path, int8_path


def test_capacity_graph_matches_pytorch_through_prefill_decode_and_rollback(exported_capacity):
    """GroupQueryAttention over capacity buffers written in place (gqa.py): the same logits as the model, float and
    int8, through a prefill, single-token steps, and a rollback that only shortens the valid length."""
    model, float_path, int8_path = exported_capacity
    graph, reference = graph_and_reference_logits(model, float_path)
    np.testing.assert_allclose(graph, reference, atol=1e-4, rtol=0)
    graph, reference = graph_and_reference_logits(model, int8_path)
    error = np.abs(graph - reference)
    assert error.mean() <= INT8_MEAN_TOLERANCE and error.max() <= INT8_MAX_TOLERANCE, (error.mean(), error.max())
    ops = {n.op_type for n in onnx.load(int8_path).graph.node}
    assert "GroupQueryAttention" in ops and "Softmax" not in ops  # attention is the fused operator alone


def test_capacity_graph_io_has_the_past_length_and_buffers(exported_capacity):
    model, float_path, _ = exported_capacity
    graph = onnx.load(float_path).graph
    L = model.cfg.n_layer
    assert [i.name for i in graph.input] == (["input_ids", "num_logits", "past_length"]
                                              + [f"past_{k}_{i}" for i in range(L) for k in ("key", "value")])
    assert [o.name for o in graph.output] == ["logits"] + [f"present_{k}_{i}" for i in range(L)
                                                          for k in ("key", "value")]
