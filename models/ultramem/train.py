"""Training loop: AdamW with a value-table param group, cosine schedule, optional DDP (torchrun) and bf16.

Plain loop in the nanoGPT manner. Data is a flat stream of token ids (`.bin` files of uint16, written by the
corpus/tokenizer step); batches are random windows of `seq_len + 1` tokens, drawn from (seed, step), so a run that
resumes from a checkpoint at step k reads what an uninterrupted run would have read from step k on. Used by
`scripts/train.py` for a CPU overfit run and, unchanged, on the GPU machine under torchrun.

A run may span several leases of the GPU machine: `max_seconds` ends it early with a checkpoint (model, optimizer,
step), `resume` continues from one on the same schedule (`steps` is the whole run's length). A checkpoint carried
without its optimizer state (`checkpoint_parts.py --weights-only`) resumes with fresh AdamW moments and a new warm-up.
"""
from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Iterator, List, Optional

import numpy as np
import torch
import torch.nn.functional as F

from .accounting import count
from .config import ModelConfig
from .health import memory_health
from .model import Transformer


@dataclass
class TrainConfig:
    data: List[str] = field(default_factory=list)  # token files (.bin, uint16)
    out_dir: str = "runs/debug"
    steps: int = 200
    batch_size: int = 8            # sequences per micro-batch, summed over all processes (same data on 1 or N GPUs)
    seq_len: int = 256
    grad_accum: int = 1
    lr: float = 6e-4               # peak lr (models/ARCHITECTURE.md, "Training recipe")
    min_lr_ratio: float = 0.1      # cosine decays to lr * min_lr_ratio
    warmup_steps: int = 10
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = 1.0
    value_lr_mult: float = 4.0     # tables start at 4x the lr (models/ARCHITECTURE.md, "Value-table learning rate") ...
    value_lr_decay: float = 0.5    # ... and reach 1x after this fraction of the steps (0: stay at the multiplier)
    dtype: str = "float32"         # "bfloat16" autocast on CUDA
    seed: int = 1337
    log_every: int = 10
    save_every: int = 0            # 0: only at the end
    init_from: str = ""            # start from these weights (a checkpoint .pt or a model folder), not from init
    grow: bool = False             # init_from has fewer blocks or a narrower FFN: grown into this config (grow.py)
    resume: str = ""               # continue a run: a checkpoint .pt or a folder of its parts (checkpoint_parts.py)
    max_seconds: float = 0.0       # > 0: stop after this much training time with a checkpoint; resume continues
    health_every: int = 0          # > 0: log the memory layers' health (health.py) every this many steps
    compile: bool = False          # torch.compile the model (PyTorch 2 on CUDA only)
    fit_seconds: float = 0.0       # > 0: `steps` is fitted to end the run after about this much training time,
                                   # from the speed between the FIT_MARKS steps, fitted again at each later mark


# Steps at which the schedule is fitted from the speed since the mark before: the first fit skips 10 steps
# (compilation, the allocator); the later ones correct it where the first steps ran slow for a while (the twelfth
# run was fitted at 231K tokens/s while a held-out evaluation shared the GPU, then ran at 527K and ended at 48% of
# its time). Refits come early in the cosine, where a changed length moves the lr by little.
FIT_MARKS = (10, 40, 100, 250, 600)


def lr_at(step: int, tc: TrainConfig) -> float:
    if step < tc.warmup_steps:
        return tc.lr * (step + 1) / tc.warmup_steps
    progress = min(1.0, (step - tc.warmup_steps) / max(1, tc.steps - tc.warmup_steps))
    return tc.lr * (tc.min_lr_ratio + (1 - tc.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def value_lr_multiplier(step: int, tc: TrainConfig) -> float:
    """lr_v(t) = lr(t) * (1 + (M - 1) * max(0, 1 - t / (rho T)))  (the official code's CosWithWarmup;
    models/ARCHITECTURE.md, "Value-table learning rate"); rho = 0 keeps M throughout, as the authors' runs do."""
    if tc.value_lr_decay <= 0:
        return tc.value_lr_mult
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


def set_lrs(optimizer: torch.optim.Optimizer, step: int, tc: TrainConfig, rewarm_from: int = -1) -> float:
    """rewarm_from >= 0: the optimizer's moments were reset at that step, so the lr warms up again from there."""
    lr = lr_at(step, tc)
    if 0 <= rewarm_from <= step < rewarm_from + tc.warmup_steps:
        lr *= (step - rewarm_from + 1) / tc.warmup_steps
    for group in optimizer.param_groups:
        group["lr"] = lr * (value_lr_multiplier(step, tc) if group["name"] == "values" else 1.0)
    return lr


def load_tokens(paths: List[str]) -> np.ndarray:
    arrays = [np.memmap(p, dtype=np.uint16, mode="r") for p in paths]
    assert arrays and all(len(a) > 1 for a in arrays), f"no tokens in {paths}"
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def random_batches(tokens: np.ndarray, batch_size: int, seq_len: int, seed: int, rank: int = 0,
                   world: int = 1, start: int = 0) -> Iterator[torch.Tensor]:
    """Endless (batch_size / world, seq_len + 1) windows at random offsets: this process's share of global batch
    number start, start + 1, ..., each drawn from (seed, its number), so the data order is the same whatever the
    number of processes and wherever a run resumes."""
    assert batch_size % world == 0, f"batch_size {batch_size} must be a multiple of the {world} processes"
    span = len(tokens) - seq_len - 1
    assert span > 0, f"corpus of {len(tokens)} tokens is shorter than seq_len + 1 = {seq_len + 1}"
    share = batch_size // world
    index = start
    while True:
        rng = np.random.default_rng([seed, index])
        starts = rng.integers(0, span + 1, size=batch_size)[rank * share:(rank + 1) * share]
        yield torch.from_numpy(np.stack([tokens[s:s + seq_len + 1].astype(np.int64) for s in starts]))
        index += 1


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
        """Tears the process group down while every rank is still up, and leaves rank 0 for last: rank 0 hosts the
        rendezvous store, and a rank whose gloo group was freed after rank 0 had exited waited for good (torch 1.13,
        the CPU DDP test, about 1 run in 50 under load: its stack ended in the DDP wrapper's teardown as `train`
        returned). The caller drops its DDP wrapper first, so that destroying the group frees it."""
        if not self.enabled:
            return
        torch.distributed.barrier()
        store = torch.distributed.distributed_c10d._get_default_store()
        torch.distributed.destroy_process_group()
        store.add("closed", 1)
        self._wait(store, "closed", self.world)
        if self.is_main:
            self._wait(store, "left", self.world - 1)
        else:
            store.add("left", 1)

    @staticmethod
    def _wait(store, key: str, count: int, timeout_s: float = 300.0) -> None:
        """Waits until the rendezvous store's counter `key` reaches `count`."""
        deadline = time.time() + timeout_s
        while store.add(key, 0) < count:
            if time.time() > deadline:
                raise RuntimeError(f"distributed teardown: {key} stayed below {count} ranks for {timeout_s:.0f} s")
            time.sleep(0.01)


def save_checkpoint(model: Transformer, mc: ModelConfig, tc: TrainConfig, step: int, path: str,
                    optimizer: Optional[torch.optim.Optimizer] = None) -> None:
    """step: the number of optimizer steps taken (a resumed run starts there)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    state = {"model": model.state_dict(), "model_config": mc.to_dict(), "train_config": asdict(tc), "step": step}
    if optimizer is not None:
        state["optimizer"] = optimizer.state_dict()
    torch.save(state, path + ".tmp")
    os.replace(path + ".tmp", path)  # a run stopped mid-write leaves the previous checkpoint whole
    mc.save(os.path.join(os.path.dirname(path) or ".", "config.json"))


def read_checkpoint(path: str, map_location="cpu") -> dict:
    """A checkpoint .pt, or a folder of its parts (checkpoint_parts.py), as the dict save_checkpoint wrote;
    tensors carried in bf16 come back as fp32."""
    if os.path.isdir(path):
        from .checkpoint_parts import read_parts
        return read_parts(path, map_location)
    return torch.load(path, map_location=map_location)


def model_from_checkpoint(ckpt: dict) -> Transformer:
    """The model of a checkpoint dict (save_checkpoint, read_checkpoint)."""
    model = Transformer(ModelConfig.from_dict(ckpt["model_config"]))
    model.load_state_dict(ckpt["model"])
    return model


def load_checkpoint(path: str, map_location="cpu") -> Transformer:
    return model_from_checkpoint(read_checkpoint(path, map_location))


def load_weights(path: str, map_location="cpu") -> Transformer:
    """A checkpoint (.pt, or a folder of its parts) or a model folder's int8 graph (onnx_import.py): the latter
    continues a shipped model."""
    if path.endswith(".pt") or os.path.isfile(os.path.join(path, "parts.json")):
        return load_checkpoint(path, map_location)
    from .onnx_import import load_model_folder  # needs the onnx package, only here
    return load_model_folder(path).to(map_location)


def initial_model(mc: ModelConfig, init_from: str, resumed: Optional[dict] = None,
                  resumed_from: str = "", grow: bool = False) -> Transformer:
    """A fresh model, the weights of a resumed run's checkpoint, or those of `init_from`; either must have mc,
    or with `grow`, init_from's model is grown into mc (grow.py)."""
    if resumed is None and not init_from:
        return Transformer(mc)
    model = model_from_checkpoint(resumed) if resumed is not None else load_weights(init_from)
    if grow and resumed is None:
        from .grow import grow as grow_model
        return grow_model(model, mc)
    if model.cfg.to_dict() != mc.to_dict():
        raise ValueError(f"{resumed_from or init_from} was trained with another config than this run's:\n"
                         f"{model.cfg.to_dict()}\nagainst\n{mc.to_dict()}")
    return model


def peak_flops(device: torch.device) -> Optional[float]:
    """Dense bf16 peak of the GPU (datasheet figures, without sparsity); None where unknown (CPU)."""
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for key, flops in (("H200", 989e12), ("H100", 989e12), ("A100", 312e12)):
        if key in name:
            return flops
    return None


def fitted_schedule(tc: TrainConfig, step: int, marks: List[float], t0: float, dist: "Distributed") -> TrainConfig:
    """tc with `steps` set so that the run ends fit_seconds after t0 at the speed measured between the last two
    marks (every process gets the same number)."""
    span = FIT_MARKS[len(marks) - 1] - FIT_MARKS[len(marks) - 2]
    rate = span / max(marks[-1] - marks[-2], 1e-9)
    steps = step + int(rate * max(0.0, tc.fit_seconds - (marks[-1] - t0)))
    return replace(tc, steps=int(dist.mean(float(steps))))


def train(mc: ModelConfig, tc: TrainConfig, tokens: Optional[np.ndarray] = None) -> List[dict]:
    """Runs the loop; returns the logged metrics (also appended to out_dir/metrics.jsonl on rank 0).

    Every logged row has the throughput: tokens/s, and the model FLOPs utilisation 6 x (activated MACs + LM head)
    x tokens/s over the GPU's bf16 peak, where the MACs count the memory layers' matmuls but not their lookups."""
    dist = Distributed()
    torch.manual_seed(tc.seed)
    tokens = load_tokens(tc.data) if tokens is None else tokens
    resumed = read_checkpoint(tc.resume) if tc.resume else None
    model = initial_model(mc, tc.init_from, resumed, tc.resume, tc.grow).to(dist.device)
    raw = model
    if tc.compile and hasattr(torch, "compile") and dist.device.type == "cuda":
        torch._dynamo.config.suppress_errors = True  # a part that fails to compile runs eagerly, not the lease away
        model = torch.compile(model)
    if dist.enabled:
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[dist.device.index]
                                                          if dist.device.type == "cuda" else None)
    fused = {"fused": True} if dist.device.type == "cuda" else {}
    opt = torch.optim.AdamW(param_groups(raw, tc.weight_decay), lr=tc.lr, betas=(tc.beta1, tc.beta2), **fused)
    first_step, rewarm_from = 0, -1
    if resumed is not None:
        first_step = resumed["step"]
        if "optimizer" in resumed:
            opt.load_state_dict(resumed["optimizer"])
        else:
            rewarm_from = first_step
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16)
                if tc.dtype == "bfloat16" and dist.device.type == "cuda" else contextlib.nullcontext())
    batches = random_batches(tokens, tc.batch_size, tc.seq_len, tc.seed, dist.rank, dist.world,
                             start=first_step * tc.grad_accum)
    os.makedirs(tc.out_dir, exist_ok=True)
    metrics_path = os.path.join(tc.out_dir, "metrics.jsonl")
    ckpt_path = os.path.join(tc.out_dir, "ckpt.pt")
    acc = count(mc)
    flops_per_token = 6 * (acc.macs_per_token + acc.lm_head_macs)
    peak = peak_flops(dist.device)
    tokens_per_step = tc.batch_size * tc.seq_len * tc.grad_accum
    history, t0, tokens_seen = [], time.time(), first_step * tokens_per_step
    last_time, last_tokens = t0, tokens_seen
    fit_marks: List[float] = []
    step = first_step
    while step < tc.steps:
        lr = set_lrs(opt, step, tc, rewarm_from)
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
        tokens_seen += tokens_per_step
        step += 1
        out_of_time = tc.max_seconds > 0 and time.time() - t0 >= tc.max_seconds
        if tc.fit_seconds > 0 and step - first_step in FIT_MARKS:
            fit_marks.append(time.time())
            if len(fit_marks) >= 2:
                tc = fitted_schedule(tc, step, fit_marks, t0, dist)
                if dist.is_main:
                    print(json.dumps({"fitted_steps": tc.steps, "at_step": step}), flush=True)
        if (step - 1) % tc.log_every == 0 or step == tc.steps or out_of_time:
            now = time.time()
            rate = (tokens_seen - last_tokens) / max(now - last_time, 1e-9)
            last_time, last_tokens = now, tokens_seen
            row = {"step": step - 1, "loss": dist.mean(loss_sum), "lr": lr, "grad_norm": grad_norm,
                   "value_lr_mult": value_lr_multiplier(step - 1, tc), "tokens": tokens_seen,
                   "elapsed_s": round(now - t0, 2), "tokens_per_s": round(rate), "world_size": dist.world,
                   "mfu": round(flops_per_token * rate / (peak * dist.world), 4) if peak else None}
            if tc.health_every and (step - 1) % tc.health_every == 0 and raw.memories:
                row["memory"] = memory_health(raw, batch[:2, :-1])
            history.append(row)
            if dist.is_main:
                print(json.dumps(row), flush=True)
                with open(metrics_path, "a") as f:
                    f.write(json.dumps(row) + "\n")
        if dist.is_main and tc.save_every and step % tc.save_every == 0 and step < tc.steps:
            save_checkpoint(raw, mc, tc, step, ckpt_path, opt)
        if out_of_time:
            break
    if dist.is_main:
        save_checkpoint(raw, mc, tc, step, ckpt_path, opt)
    del model  # the DDP wrapper holds the process group: freed now, while every rank is up (Distributed.close)
    gc.collect()
    dist.close()
    return history
