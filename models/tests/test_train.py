"""A short CPU training run must overfit a tiny corpus, for each architecture (the loop, groups and losses work)."""
import os

import numpy as np
import pytest

from conftest import tiny_config
from ultramem.train import TrainConfig, load_checkpoint, train

# 2 KB of this repository's model code as byte tokens: small enough to memorize in well under a minute
CORPUS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ultramem", "config.py")
LOSS_THRESHOLD = 1.0  # nats/token; the untrained model starts near ln(300) = 5.7


@pytest.mark.parametrize("arch", ["ultramem", "dense", "moe"])
def test_short_cpu_run_overfits_a_tiny_corpus(arch, tmp_path):
    tokens = np.frombuffer(open(CORPUS, "rb").read()[:2048], dtype=np.uint8).astype(np.uint16)
    tc = TrainConfig(out_dir=str(tmp_path), steps=STEPS, batch_size=8, seq_len=64, lr=3e-3, warmup_steps=10,
                     log_every=10)
    history = train(tiny_config(arch), tc, tokens=tokens)
    assert history[0]["loss"] > 4.5
    assert history[-1]["loss"] < LOSS_THRESHOLD, history[-1]
    model = load_checkpoint(os.path.join(tmp_path, "ckpt.pt"))  # the checkpoint and its config.json load back
    assert model.cfg == tiny_config(arch) and os.path.exists(tmp_path / "config.json")


STEPS = 150
