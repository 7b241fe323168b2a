"""A short CPU training run must overfit a tiny corpus, for each architecture (the loop, groups and losses work)."""
import json
import os

import numpy as np
import pytest

from models.tests.conftest import tiny_config, tiny_memory
from models.ultramem.train import TrainConfig, load_checkpoint, train

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
    from models.ultramem.train import random_batches
    tokens = np.arange(5000, dtype=np.uint16)
    single = random_batches(tokens, 8, 16, seed=3)
    halves = [random_batches(tokens, 8, 16, seed=3, rank=r, world=2) for r in range(2)]
    for _ in range(3):
        whole = next(single)
        assert np.array_equal(whole.numpy(), np.concatenate([next(h).numpy() for h in halves]))


def test_a_run_continues_from_a_model_folder(tmp_path):
    """init_from: an overfit model, exported as a shipped folder (int8), starts the next run near its own loss."""
    from models.ultramem.export import export_float
    from models.ultramem.quantize import quantize_file
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


def byte_tokens(n=1024):
    return np.frombuffer(open(CORPUS, "rb").read()[:n], dtype=np.uint8).astype(np.uint16)


def short_run(tmp_path, name, **overrides):
    base = dict(out_dir=str(tmp_path / name), steps=6, batch_size=4, seq_len=32, lr=3e-3, warmup_steps=2,
                log_every=1)
    base.update(overrides)
    return TrainConfig(**base)


def test_a_run_stopped_by_its_time_budget_resumes_as_if_never_stopped(tmp_path):
    """Same batches (drawn from seed and step) and the optimizer state: the resumed run ends with the same weights."""
    import torch
    cfg = overfit_config("ultramem")
    train(cfg, short_run(tmp_path, "whole"), tokens=byte_tokens())
    stopped = train(cfg, short_run(tmp_path, "split", max_seconds=1e-9), tokens=byte_tokens())
    assert [r["step"] for r in stopped] == [0]
    train(cfg, short_run(tmp_path, "split", resume=str(tmp_path / "split" / "ckpt.pt")), tokens=byte_tokens())
    whole = torch.load(tmp_path / "whole" / "ckpt.pt")
    split = torch.load(tmp_path / "split" / "ckpt.pt")
    assert whole["step"] == split["step"] == 6
    for name, tensor in whole["model"].items():
        torch.testing.assert_close(split["model"][name], tensor, rtol=1e-5, atol=1e-6, msg=name)


def test_checkpoint_parts_round_trip_and_catch_damage(tmp_path):
    import torch
    from models.ultramem.checkpoint_parts import read_parts, write_parts
    cfg = overfit_config("ultramem")
    train(cfg, short_run(tmp_path, "run", steps=2), tokens=byte_tokens())
    ckpt = str(tmp_path / "run" / "ckpt.pt")
    original = torch.load(ckpt)
    index = write_parts(ckpt, str(tmp_path / "full"), part_bytes=200_000)
    assert len(index["parts"]) > 1 and not index["weights_only"]
    full = read_parts(str(tmp_path / "full"))
    assert full["step"] == 2 and full["optimizer"]["state"].keys() == original["optimizer"]["state"].keys()
    for name, tensor in original["model"].items():
        assert torch.equal(full["model"][name], tensor), name
    small = write_parts(ckpt, str(tmp_path / "small"), weights_only=True, bf16=True)
    assert small["weights_only"] and small["bytes"] < index["bytes"] / 3
    light = read_parts(str(tmp_path / "small"))
    assert "optimizer" not in light and light["model"]["memories.0.values"].dtype == torch.float32
    torch.testing.assert_close(light["model"]["memories.0.values"], original["model"]["memories.0.values"],
                               rtol=1e-2, atol=1e-6)
    assert torch.equal(light["model"]["memories.0.cores"], original["model"]["memories.0.cores"])
    from models.ultramem.train import load_weights  # eval_loss.py measures where a resumed run started from its parts
    assert torch.equal(load_weights(str(tmp_path / "small")).state_dict()["memories.0.cores"],
                       original["model"]["memories.0.cores"])
    with open(tmp_path / "full" / "ckpt.part001", "r+b") as f:
        f.write(b"\0")
    with pytest.raises(ValueError, match="damaged"):
        read_parts(str(tmp_path / "full"))


def test_a_run_resumes_from_weights_only_parts_with_a_new_warm_up(tmp_path):
    from models.ultramem.checkpoint_parts import write_parts
    cfg = overfit_config("ultramem")
    first = train(cfg, short_run(tmp_path, "first", steps=40, lr=1e-2, log_every=10), tokens=byte_tokens())
    write_parts(str(tmp_path / "first" / "ckpt.pt"), str(tmp_path / "parts"), weights_only=True, bf16=True)
    more = train(cfg, short_run(tmp_path, "more", steps=44, lr=1e-2, warmup_steps=4,
                                resume=str(tmp_path / "parts")), tokens=byte_tokens())
    assert [r["step"] for r in more][0] == 40 and more[0]["lr"] < 0.3 * 1e-2  # warming up again
    assert more[0]["loss"] < first[-1]["loss"] + 0.3  # a fresh model starts near 5.7


def test_logs_carry_throughput_and_memory_health(tmp_path):
    rows = train(overfit_config("ultramem"), short_run(tmp_path, "run", steps=3, health_every=2),
                 tokens=byte_tokens())
    assert all(r["tokens_per_s"] > 0 and r["world_size"] == 1 and r["mfu"] is None for r in rows)  # no GPU peak
    health = rows[0]["memory"]
    assert len(health) == 1 and "memory" not in rows[1]
    layer = health[0]
    assert 0 < layer["rows_hit"] <= 1 and 0 < layer["top1pct_share"] <= 1 and layer["top1"] >= layer["topm"]
    assert 0.5 < layer["rms_ratio"] < 2 and layer["sv_ratio"] >= 1


def test_ddp_on_two_cpu_processes_trains_like_one_process(tmp_path):
    """The DDP path (the large-run issue's, and every multi-GPU run's): two gloo processes, each with half of every
    global batch, take the steps one process takes, to float rounding; the log says world_size 2. The processes
    get torchrun's environment by hand: Debian's torch 1.13 torchrun fails on Python 3.11 before starting workers
    (its `to_map` gets None for the default redirects)."""
    import signal
    import socket
    import subprocess
    import sys
    import torch
    tokens = byte_tokens(4096)
    tokens.tofile(tmp_path / "tokens.bin")
    cfg = overfit_config("ultramem")
    cfg.save(str(tmp_path / "config.json"))
    root = os.path.join(os.path.dirname(CORPUS), "..", "..")   # python3 -m models.scripts.train runs from there
    flags = ["--config", str(tmp_path / "config.json"), "--data", str(tmp_path / "tokens.bin"), "--steps", "4",
             "--batch-size", "4", "--seq-len", "32", "--lr", "3e-3", "--warmup-steps", "1", "--log-every", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONFAULTHANDLER": "1"}
    subprocess.run([sys.executable, "-m", "models.scripts.train", *flags, "--out", str(tmp_path / "one")], check=True,
                   env=env, capture_output=True, cwd=root)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ranks = [subprocess.Popen([sys.executable, "-m", "models.scripts.train", *flags, "--out", str(tmp_path / "two")],
                              cwd=root,
                              env={**env, "RANK": str(r), "LOCAL_RANK": str(r), "WORLD_SIZE": "2",
                                   "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for r in range(2)]
    errors = []
    for rank in ranks:
        try:
            _, err = rank.communicate(timeout=300)
        except subprocess.TimeoutExpired:   # a hang: every rank still up prints its Python stacks (faulthandler)
            for r in ranks:
                if r.poll() is None:
                    r.send_signal(signal.SIGABRT)
            _, err = rank.communicate()
        errors.append(err.decode()[-3000:])
    assert [r.returncode for r in ranks] == [0, 0], "\n".join(errors)
    one = [json.loads(line) for line in open(tmp_path / "one" / "metrics.jsonl")]
    two = [json.loads(line) for line in open(tmp_path / "two" / "metrics.jsonl")]
    assert [r["world_size"] for r in two] == [2] * 4 and one[0]["world_size"] == 1
    assert [r["loss"] for r in two] == pytest.approx([r["loss"] for r in one], abs=1e-4)
    a, b = torch.load(tmp_path / "one" / "ckpt.pt"), torch.load(tmp_path / "two" / "ckpt.pt")
    for name, tensor in a["model"].items():
        # Adam divides by the root of tiny second moments, so summation-order rounding grows to ~5e-5 in 4 steps
        # of lr 3e-3 (weights move ~1e-2)
        torch.testing.assert_close(b["model"][name], tensor, rtol=1e-3, atol=2e-4, msg=name)


def test_a_grown_run_starts_where_its_smaller_model_stopped(tmp_path):
    """grow: the deeper, wider-FFN model's first loss is the trained model's own on the same batch."""
    import torch
    from models.ultramem.grow import grown_config
    cfg = overfit_config("ultramem")
    train(cfg, short_run(tmp_path, "small", steps=20, lr=1e-2), tokens=byte_tokens())
    ckpt = str(tmp_path / "small" / "ckpt.pt")
    same = train(cfg, short_run(tmp_path, "same", steps=1, init_from=ckpt), tokens=byte_tokens())
    big_cfg = grown_config(cfg, n_layer=3, ffn_hidden=384)
    grown = train(big_cfg, short_run(tmp_path, "grown", steps=1, init_from=ckpt, grow=True), tokens=byte_tokens())
    assert grown[0]["loss"] == pytest.approx(same[0]["loss"], abs=1e-4)
    assert torch.load(tmp_path / "grown" / "ckpt.pt")["model_config"]["n_layer"] == 3
    with pytest.raises(ValueError, match="another config"):  # without grow, another shape is refused
        train(big_cfg, short_run(tmp_path, "refused", steps=1, init_from=ckpt), tokens=byte_tokens())


def test_a_fitted_schedule_ends_the_run_on_its_own_clock(tmp_path, monkeypatch):
    """fit_seconds: `steps` is fitted from the speed of the first steps, and the cosine runs to its end there.
    A clock that ticks 10 ms a reading: 30 timed steps read it once, so the run goes at 3,000 steps/s."""
    import itertools
    import types
    import torch
    import models.ultramem.train as loop
    ticks = itertools.count()
    monkeypatch.setattr(loop, "time", types.SimpleNamespace(time=lambda: next(ticks) * 0.01))
    rows = train(overfit_config("ultramem"), short_run(tmp_path, "fit", steps=10**9, warmup_steps=50,
                                                      fit_seconds=0.05, log_every=1000), tokens=byte_tokens())
    saved = torch.load(tmp_path / "fit" / "ckpt.pt")
    assert 40 < saved["step"] == saved["train_config"]["steps"] <= 200
    assert rows[-1]["step"] == saved["step"] - 1
    assert rows[-1]["lr"] == pytest.approx(3e-3 * 0.1, rel=0.05)  # the cosine reached its floor


def test_a_schedule_fitted_on_slow_first_steps_is_fitted_again(tmp_path, monkeypatch):
    """The first 40 steps take 10 ms each (the GPU shared), the rest 2 ms: the fit at step 40 plans about 120 steps
    in 1.2 s of training, the refits at steps 100 and 250 see the real speed and stretch the run to fill it (440)."""
    import types
    import torch
    import models.ultramem.train as loop
    done = {"steps": 0}
    set_lrs = loop.set_lrs

    def counting_set_lrs(opt, step, tc, rewarm_from):
        done["steps"] = step  # called at the start of a step: `step` steps are done
        return set_lrs(opt, step, tc, rewarm_from)

    def clock():
        steps = done["steps"] + 1 if done["steps"] else 0  # read after a step: the one that set_lrs began is done
        return 0.01 * min(steps, 40) + 0.002 * max(0, steps - 40)

    monkeypatch.setattr(loop, "set_lrs", counting_set_lrs)
    monkeypatch.setattr(loop, "time", types.SimpleNamespace(time=clock))
    train(overfit_config("ultramem"), short_run(tmp_path, "refit", steps=10**9, warmup_steps=20, fit_seconds=1.2,
                                               log_every=1000), tokens=byte_tokens())
    saved = torch.load(tmp_path / "refit" / "ckpt.pt")
    assert saved["step"] == saved["train_config"]["steps"]
    assert 435 <= saved["step"] <= 441
