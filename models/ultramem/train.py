"""Training loop: AdamW with a value-table param group, cosine schedule, optional DDP (torchrun) and bf16.

Plain loop in the nanoGPT manner. Data is a flat stream of token ids (`.bin` files of uint16, written by the
corpus/tokenizer step); batches are random windows of `seq_len + 1` tokens. Used by `scripts/train.py` for a CPU
overfit run and, unchanged, on the GPU machine under torchrun.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Iterator, List, Optional

import numpy as np
import torch
import torch.nn.functional as F

from .config import ModelConfig
from .model import Transformer


@dataclass
class TrainConfig:
    data: List[str] = field(default_factory=list)  # token files (.bin, uint16)
    out_dir: str = "runs/debug"
    steps: int = 200
    batch_size: int = 8            # sequences per micro-batch, summed over all processes (same data on 1 or N GPUs)
    seq_len: int = 256
    grad_accum: int = 1
    lr: float = 6e-4               # peak lr (notes §6.5)
    min_lr_ratio: float = 0.1      # cosine decays to lr * min_lr_ratio
    warmup_steps: int = 10
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = 1.0
    value_lr_mult: float = 4.0     # value tables start at 4x the lr ... (notes §1.8)
    value_lr_decay: float = 0.5    # ... and reach 1x after this fraction of the steps
    dtype: str = "float32"         # "bfloat16" autocast on CUDA
    seed: int = 1337
    log_every: int = 10
    save_every: int = 0            # 0: only at the end
    init_from: str = ""            # start from these weights (a checkpoint .pt or a model folder), not from init


def lr_at(step: int, tc: TrainConfig) -> float:
    if step < tc.warmup_steps:
        return tc.lr * (step + 1) / tc.warmup_steps
    progress = min(1.0, (step - tc.warmup_steps) / max(1, tc.steps - tc.warmup_steps))
    return tc.lr * (tc.min_lr_ratio + (1 - tc.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def value_lr_multiplier(step: int, tc: TrainConfig) -> float:
    """lr_v(t) = lr(t) * (1 + (M - 1) * max(0, 1 - t / (rho T)))  (official code's CosWithWarmup, notes §1.8)."""
    horizon = max(1.0, tc.value_lr_decay * tc.steps)
    return 1.0 + (tc.value_lr_mult - 1.0) * max(0.0, 1.0 - step / horizon)


def param_groups(model: Transformer, weight_decay: float):
    """Three groups: value tables (own lr multiplier, decayed), other matrices (decayed), gains/cores (no decay)."""
    values, decay, no_decay = [], [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if getattr(p, "is_memory_value", False):
            values.append(p)
        elif p.dim() >= 2 and not name.endswith("cores"):
            decay.append(p)
        else:
            no_decay.append(p)
    return [
        {"name": "decay", "params": decay, "weight_decay": weight_decay},
        {"name": "no_decay", "params": no_decay, "weight_decay": 0.0},
        {"name": "values", "params": values, "weight_decay": weight_decay},
    ]


def set_lrs(optimizer: torch.optim.Optimizer, step: int, tc: TrainConfig) -> float:
    lr = lr_at(step, tc)
    for group in optimizer.param_groups:
        group["lr"] = lr * (value_lr_multiplier(step, tc) if group["name"] == "values" else 1.0)
    return lr


def load_tokens(paths: List[str]) -> np.ndarray:
    arrays = [np.memmap(p, dtype=np.uint16, mode="r") for p in paths]
    assert arrays and all(len(a) > 1 for a in arrays), f"no tokens in {paths}"
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def random_batches(tokens: np.ndarray, batch_size: int, seq_len: int, seed: int, rank: int = 0,
                   world: int = 1) -> Iterator[torch.Tensor]:
    """Endless (batch_size / world, seq_len + 1) windows at random offsets: this process's share of one global
    batch drawn from `seed`, so the data order is the same whatever the number of processes."""
    assert batch_size % world == 0, f"batch_size {batch_size} must be a multiple of the {world} processes"
    rng = np.random.default_rng(seed)
    span = len(tokens) - seq_len - 1
    assert span > 0, f"corpus of {len(tokens)} tokens is shorter than seq_len + 1 = {seq_len + 1}"
    share = batch_size // world
    while True:
        starts = rng.integers(0, span + 1, size=batch_size)[rank * share:(rank + 1) * share]
        yield torch.from_numpy(np.stack([tokens[s:s + seq_len + 1].astype(np.int64) for s in starts]))


def lm_loss(model, batch: torch.Tensor) -> torch.Tensor:
    logits, _ = model(batch[:, :-1])
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))


class Distributed:
    """torchrun environment (RANK/WORLD_SIZE/LOCAL_RANK) or a single process."""

    def __init__(self):
        self.enabled = "RANK" in os.environ and "WORLD_SIZE" in os.environ
        self.rank = int(os.environ.get("RANK", 0))
        self.world = int(os.environ.get("WORLD_SIZE", 1))
        local = int(os.environ.get("LOCAL_RANK", 0))
        if torch.cuda.is_available():
            self.device = torch.device("cuda", local)
            torch.cuda.set_device(self.device)
        else:
            self.device = torch.device("cpu")
        if self.enabled:
            torch.distributed.init_process_group("nccl" if self.device.type == "cuda" else "gloo")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def mean(self, value: float) -> float:
        if not self.enabled:
            return value
        t = torch.tensor([value], device=self.device)
        torch.distributed.all_reduce(t)
        return t.item() / self.world

    def close(self):
        if self.enabled:
            torch.distributed.destroy_process_group()


def save_checkpoint(model: Transformer, mc: ModelConfig, tc: TrainConfig, step: int, path: str) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    torch.save({"model": model.state_dict(), "model_config": mc.to_dict(), "train_config": asdict(tc),
                "step": step}, path)
    mc.save(os.path.join(os.path.dirname(path) or ".", "config.json"))


def load_checkpoint(path: str, map_location="cpu") -> Transformer:
    ckpt = torch.load(path, map_location=map_location)
    model = Transformer(ModelConfig.from_dict(ckpt["model_config"]))
    model.load_state_dict(ckpt["model"])
    return model


def load_weights(path: str, map_location="cpu") -> Transformer:
    """A checkpoint (.pt) or a model folder's int8 graph (onnx_import.py): the latter continues a shipped model."""
    if path.endswith(".pt"):
        return load_checkpoint(path, map_location)
    from .onnx_import import load_model_folder  # needs the onnx package, only here
    return load_model_folder(path).to(map_location)


def initial_model(mc: ModelConfig, init_from: str) -> Transformer:
    if not init_from:
        return Transformer(mc)
    model = load_weights(init_from)
    if model.cfg.to_dict() != mc.to_dict():
        raise ValueError(f"{init_from} was trained with another config than this run's:\n"
                         f"{model.cfg.to_dict()}\nagainst\n{mc.to_dict()}")
    return model


def train(mc: ModelConfig, tc: TrainConfig, tokens: Optional[np.ndarray] = None) -> List[dict]:
    """Runs the loop; returns the logged metrics (also appended to out_dir/metrics.jsonl on rank 0)."""
    dist = Distributed()
    torch.manual_seed(tc.seed)
    tokens = load_tokens(tc.data) if tokens is None else tokens
    model = initial_model(mc, tc.init_from).to(dist.device)
    raw = model
    if dist.enabled:
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[dist.device.index]
                                                          if dist.device.type == "cuda" else None)
    fused = {"fused": True} if dist.device.type == "cuda" else {}
    opt = torch.optim.AdamW(param_groups(raw, tc.weight_decay), lr=tc.lr, betas=(tc.beta1, tc.beta2), **fused)
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16)
                if tc.dtype == "bfloat16" and dist.device.type == "cuda" else contextlib.nullcontext())
    batches = random_batches(tokens, tc.batch_size, tc.seq_len, tc.seed, dist.rank, dist.world)
    os.makedirs(tc.out_dir, exist_ok=True)
    metrics_path = os.path.join(tc.out_dir, "metrics.jsonl")
    history, t0, tokens_seen = [], time.time(), 0
    for step in range(tc.steps):
        lr = set_lrs(opt, step, tc)
        loss_sum = 0.0
        for _ in range(tc.grad_accum):
            batch = next(batches).to(dist.device, non_blocking=True)
            with autocast:
                loss = lm_loss(model, batch)
                total = (loss + raw.aux_loss()) / tc.grad_accum
            total.backward()
            loss_sum += loss.item() / tc.grad_accum
        grad_norm = torch.nn.utils.clip_grad_norm_(raw.parameters(), tc.grad_clip).item()
        opt.step()
        opt.zero_grad(set_to_none=True)
        raw.refresh_tucker_filters()  # once per optimizer step, after the cores moved
        tokens_seen += tc.batch_size * tc.seq_len * tc.grad_accum
        if step % tc.log_every == 0 or step == tc.steps - 1:
            row = {"step": step, "loss": dist.mean(loss_sum), "lr": lr, "grad_norm": grad_norm,
                   "value_lr_mult": value_lr_multiplier(step, tc), "tokens": tokens_seen,
                   "elapsed_s": round(time.time() - t0, 2)}
            history.append(row)
            if dist.is_main:
                print(json.dumps(row), flush=True)
                with open(metrics_path, "a") as f:
                    f.write(json.dumps(row) + "\n")
        if dist.is_main and tc.save_every and step > 0 and step % tc.save_every == 0:
            save_checkpoint(raw, mc, tc, step, os.path.join(tc.out_dir, "ckpt.pt"))
    if dist.is_main:
        save_checkpoint(raw, mc, tc, tc.steps, os.path.join(tc.out_dir, "ckpt.pt"))
    dist.close()
    return history

