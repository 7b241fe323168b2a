"""A short CPU training run must overfit a tiny corpus, for each architecture (the loop, groups and losses work)."""
import os

import numpy as np
import pytest

from conftest import tiny_config, tiny_memory
from ultramem.train import TrainConfig, load_checkpoint, train

# 1 KB of this repository's model code as byte tokens: memorized in about 25 s per model on 2 cores
CORPUS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ultramem", "config.py")
LOSS_THRESHOLD = 1.0  # nats/token; the untrained model starts near ln(300) = 5.7
STEPS = 300


def overfit_config(arch):
    memory = tiny_memory(placement="0:1") if arch == "ultramem" else None
    return tiny_config(arch, n_layer=2, d_model=128, ffn_hidden=256, **({"memory": memory} if memory else {}))


@pytest.mark.parametrize("arch", ["ultramem", "dense", "moe"])
def test_short_cpu_run_overfits_a_tiny_corpus(arch, tmp_path):
    tokens = np.frombuffer(open(CORPUS, "rb").read()[:1024], dtype=np.uint8).astype(np.uint16)
    tc = TrainConfig(out_dir=str(tmp_path), steps=STEPS, batch_size=16, seq_len=64, lr=1e-2, warmup_steps=20,
                     log_every=50)
    history = train(overfit_config(arch), tc, tokens=tokens)
    assert history[0]["loss"] > 4.5
    assert history[-1]["loss"] < LOSS_THRESHOLD, history[-1]
    model = load_checkpoint(os.path.join(tmp_path, "ckpt.pt"))  # the checkpoint and its config.json load back
    assert model.cfg == overfit_config(arch) and os.path.exists(tmp_path / "config.json")


def test_data_order_is_the_same_on_one_or_two_processes():
    from ultramem.train import random_batches
    tokens = np.arange(5000, dtype=np.uint16)
    single = random_batches(tokens, 8, 16, seed=3)
    halves = [random_batches(tokens, 8, 16, seed=3, rank=r, world=2) for r in range(2)]
    for _ in range(3):
        whole = next(single)
        assert np.array_equal(whole.numpy(), np.concatenate([next(h).numpy() for h in halves]))


def test_a_run_continues_from_a_model_folder(tmp_path):
    """init_from: an overfit model, exported as a shipped folder (int8), starts the next run near its own loss."""
    from ultramem.export import export_float
    from ultramem.quantize import quantize_file
    tokens = np.frombuffer(open(CORPUS, "rb").read()[:1024], dtype=np.uint8).astype(np.uint16)
    cfg = overfit_config("ultramem")
    first = TrainConfig(out_dir=str(tmp_path / "first"), steps=STEPS, batch_size=16, seq_len=64, lr=1e-2,
                        warmup_steps=20, log_every=50)
    trained = train(cfg, first, tokens=tokens)[-1]["loss"]
    folder = tmp_path / "folder"  # what a model folder holds for training: config.json and the int8 graph
    folder.mkdir()
    cfg.save(str(folder / "config.json"))
    export_float(load_checkpoint(str(tmp_path / "first" / "ckpt.pt")), str(folder / "model.float.onnx"))
    quantize_file(str(folder / "model.float.onnx"), str(folder / "model.onnx"))
    again = TrainConfig(out_dir=str(tmp_path / "again"), steps=1, batch_size=16, seq_len=64, lr=1e-4,
                        init_from=str(folder))
    assert train(cfg, again, tokens=tokens)[0]["loss"] < trained + 0.5  # a fresh model starts near 5.7
    with pytest.raises(ValueError, match="another config"):
        train(overfit_config("dense"), again, tokens=tokens)
