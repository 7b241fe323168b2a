"""A model folder's graph read back into a Transformer (ultramem/onnx_import.py), float and int8."""
import json
import os

import pytest
import torch
import torch.nn.functional as F

from models.tests.conftest import tiny_config
from models.ultramem import Transformer
from models.ultramem.export import export_float
from models.ultramem.onnx_import import load_model_folder
from models.ultramem.quantize import quantize_file

IDS = torch.tensor([[5, 17, 42, 99, 3, 250, 7, 8, 120, 64, 11, 200]])


def trained_looking(architecture: str) -> Transformer:
    """Random weights everywhere, including what init leaves constant (value tables, gains, cores)."""
    torch.manual_seed(3)
    model = Transformer(tiny_config(architecture))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1 or name.endswith(("values", "cores")):
                p.add_(0.3 * torch.randn_like(p))
    model.refresh_tucker_filters()
    return model.eval()


def folder_of(model: Transformer, tmp_path, quantized: bool, kv_layout: str = "concat") -> str:
    model.cfg.save(str(tmp_path / "config.json"))
    float_path = str(tmp_path / "model.float.onnx")
    export_float(model, float_path, kv_layout=kv_layout)
    if quantized:
        quantize_file(float_path, str(tmp_path / "model.onnx"))
    else:
        (tmp_path / "model.float.onnx").rename(tmp_path / "model.onnx")
    return str(tmp_path)


def logits(model: Transformer) -> torch.Tensor:
    with torch.no_grad():
        return model(IDS)[0]


@pytest.mark.parametrize("architecture,kv_layout", [("ultramem", "concat"), ("dense", "concat"),
                                                    ("ultramem", "capacity")])
def test_float_graph_gives_back_the_same_model(architecture, kv_layout, tmp_path):
    model = trained_looking(architecture)
    imported = load_model_folder(folder_of(model, tmp_path, quantized=False, kv_layout=kv_layout)).eval()
    original, back = model.state_dict(), imported.state_dict()
    for name, value in original.items():
        if ".keys" in name or ".key_norm" in name:
            continue  # stored only as LN(K) * g, checked below
        assert torch.allclose(back[name], value, atol=1e-6), name
    for k, mem in enumerate(model.memories):
        normed = F.layer_norm(mem.keys, (mem.cfg.key_dim,), mem.key_norm)
        again = F.layer_norm(imported.memories[k].keys, (mem.cfg.key_dim,), imported.memories[k].key_norm)
        assert torch.allclose(again, normed, rtol=1e-3, atol=1e-5)  # up to LayerNorm's eps (onnx_import.py)
    assert torch.allclose(logits(imported), logits(model), atol=1e-4)


def test_filter_vectors_keep_their_signs_through_the_next_refresh(tmp_path):
    model = trained_looking("ultramem")
    imported = load_model_folder(folder_of(model, tmp_path, quantized=True))
    before = [(m.filter_u.clone(), m.filter_t.clone()) for m in imported.memories]
    imported.refresh_tucker_filters()
    for (u, t), mem in zip(before, imported.memories):
        assert torch.allclose(mem.filter_u, u, atol=1e-3) and torch.allclose(mem.filter_t, t, atol=1e-3)


def test_int8_graph_gives_a_model_within_quantization_error_that_trains(tmp_path):
    model = trained_looking("ultramem")
    imported = load_model_folder(folder_of(model, tmp_path, quantized=True))
    for name, value in model.state_dict().items():
        if value.dtype.is_floating_point and value.dim() == 2 and ".keys" not in name:
            step = value.abs().max() / 127  # at most half an int8 step of the largest block
            assert (imported.state_dict()[name] - value).abs().max() <= step, name
    assert (logits(imported.eval()) - logits(model)).abs().mean() < 0.05
    imported.train()
    loss = F.cross_entropy(imported(IDS[:, :-1])[0].reshape(-1, 300), IDS[:, 1:].reshape(-1))
    loss.backward()
    assert all(p.grad is not None for name, p in imported.named_parameters() if "memories" in name)


def test_a_folder_that_does_not_match_its_config_is_refused_clearly(tmp_path):
    folder = folder_of(trained_looking("ultramem"), tmp_path, quantized=True)
    with open(tmp_path / "config.json") as f:
        config = json.load(f)
    config["ffn_hidden"] = 256
    with open(tmp_path / "config.json", "w") as f:
        json.dump(config, f)
    with pytest.raises(ValueError, match="wrong shape"):
        load_model_folder(folder)
    (tmp_path / "model.onnx").unlink()
    with pytest.raises(FileNotFoundError, match="model.onnx is missing"):
        load_model_folder(folder)


def test_4bit_value_tables_are_read_back_as_the_graph_holds_them(tmp_path):
    from models.ultramem.onnx_import import state_from_graph
    torch.manual_seed(0)
    cfg = tiny_config()
    model = Transformer(cfg).eval()
    export_float(model, str(tmp_path / "f.onnx"))
    quantize_file(str(tmp_path / "f.onnx"), str(tmp_path / "q4.onnx"), value_bits=4)
    state = state_from_graph(str(tmp_path / "q4.onnx"), cfg)
    for k, memory in enumerate(model.memories):
        values = memory.values.detach()
        step = values.abs().max(dim=1, keepdim=True).values / 7  # one 4-bit step of each row
        assert ((torch.as_tensor(state[f"memories.{k}.values"]) - values).abs() <= step / 2 + 1e-6).all()


def test_graphs_of_the_earlier_memory_layout_import_too(tmp_path):
    """The committed fixture's float graph predates the current memory layer (each side's per-rank keys in their own
    gathered table, the filter keys a 4-D matmul constant), as the shipped model's graph does: it imports into a
    model with PyTorch's logits (golden.json, within the key reconstruction's LayerNorm eps, onnx_import.py)."""
    import shutil
    fixture = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tiny-fixture")
    shutil.copyfile(os.path.join(fixture, "config.json"), tmp_path / "config.json")
    shutil.copyfile(os.path.join(fixture, "model.float.onnx"), tmp_path / "model.onnx")
    model = load_model_folder(str(tmp_path)).eval()
    with open(os.path.join(fixture, "golden.json")) as f:
        prompts = json.load(f)["prompts"]
    for prompt in prompts:
        with torch.no_grad():
            got = model(torch.tensor([prompt["ids"]]))[0][0, -1]
        assert torch.allclose(got, torch.tensor(prompt["firstLogits"]), atol=1e-3), prompt["text"]


def test_a_shipped_folder_becomes_parts_that_a_run_resumes_from(tmp_path):
    """When a run's own checkpoint parts are lost, the shipped folder's int8 graph stands in for them
    (checkpoint_parts.py from-folder): the parts hold the imported weights (bf16 where large) and the step where the
    shipped run's schedule ended, and a run resumes there with a new warm-up."""
    import subprocess
    import sys
    import numpy as np
    from models.ultramem.checkpoint_parts import read_parts
    from models.ultramem.train import TrainConfig, train
    (tmp_path / "folder").mkdir()
    folder = folder_of(trained_looking("ultramem"), tmp_path / "folder", quantized=True)
    subprocess.run([sys.executable, "-m", "models.scripts.checkpoint_parts", "from-folder", folder,
                    str(tmp_path / "parts"), "--step", "30"], check=True, capture_output=True,
                   cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    parts = read_parts(str(tmp_path / "parts"))
    imported = load_model_folder(folder).state_dict()
    assert parts["step"] == 30 and "optimizer" not in parts
    for name, value in imported.items():
        torch.testing.assert_close(parts["model"][name], value, rtol=1e-2, atol=1e-6, msg=name)
    tokens = np.arange(2048, dtype=np.uint16) % 300
    rows = train(tiny_config("ultramem"), TrainConfig(out_dir=str(tmp_path / "run"), steps=32, batch_size=2,
                                                      seq_len=16, lr=1e-3, warmup_steps=2, log_every=1,
                                                      resume=str(tmp_path / "parts")), tokens=tokens)
    assert rows[0]["step"] == 30 and rows[0]["lr"] < 1e-3  # resumed at the step, warming up again
