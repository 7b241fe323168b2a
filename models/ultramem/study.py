"""Scaling studies described as data (a plan, e.g. `models/study/scaling.json`), run on one machine's GPUs.

A plan has a `base` ModelConfig (dict), `train` settings (TrainConfig fields), and `runs`. Each run is the base with
its `model` overrides (dotted keys: "memory.topk") and its own `train` overrides, or the dense / MoE `twin` of
another run's config at equal activated compute (`accounting.model_twins`). Every run of a study sees the same
token budget, data order and batch, so that held-out losses compare. The three steps:
  launch    train the runs, several at a time per GPU (small models leave an H100 mostly idle)
  evaluate  held-out loss per language of every finished run (scripts/eval_loss.py)
  summarize one record per run: shape, activated MACs, table parameters, int8 folder size, throughput, training
            and held-out loss, the memory's health at the end; `report` turns it into a Markdown table
"""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Dict, List, Optional

from .accounting import count, model_twins
from .config import ModelConfig

# the repository root: the scripts run as modules of the `models` package from there (python3 -m models.scripts.X)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPTS = os.path.join(ROOT, "models", "scripts")


@dataclass
class StudyRun:
    name: str
    group: str
    config: ModelConfig
    train: dict          # TrainConfig fields for scripts/train.py
    why: str = ""


def _override(d: dict, dotted: str, value) -> None:
    *path, last = dotted.split(".")
    for key in path:
        d = d[key]
    if last not in d:
        raise KeyError(f"plan override {dotted!r} names no config field")
    d[last] = value


def resolve(plan: dict, groups: Optional[List[str]] = None) -> List[StudyRun]:
    """The plan's runs (those of `groups`, or all) with their configs; twins are sized on their run's config."""
    by_name: Dict[str, StudyRun] = {}
    for spec in plan["runs"]:
        train = {**plan["train"], **spec.get("train", {})}
        if "twin" in spec:
            dense, moe = model_twins(by_name[spec["of"]].config, n_experts=plan.get("experts", 16))
            cfg = dense if spec["twin"] == "dense" else moe
        else:
            d = copy.deepcopy(plan["base"])
            for key, value in spec.get("model", {}).items():
                _override(d, key, value)
            cfg = ModelConfig.from_dict(d)
        by_name[spec["name"]] = StudyRun(spec["name"], spec["group"], cfg, train, spec.get("why", ""))
    return [r for r in by_name.values() if groups is None or r.group in groups]


def steps_for(run: StudyRun, tokens: int) -> int:
    return max(1, tokens // (run.train["batch_size"] * run.train["seq_len"] * run.train.get("grad_accum", 1)))


def launch(runs: List[StudyRun], data: List[str], out_dir: str, tokens: int, per_gpu: int = 1,
           gpus: Optional[List[str]] = None, max_seconds: float = 0, python: str = sys.executable) -> None:
    """Trains the runs, at most `per_gpu` at a time on each GPU (None: one CPU slot). Skips runs already done.
    A run's output lands in out_dir/<name>/ (config.json, metrics.jsonl, ckpt.pt, train.log)."""
    slots = [g for g in (gpus or [None]) for _ in range(per_gpu)]
    pending = [r for r in runs if not os.path.exists(os.path.join(out_dir, r.name, "done"))]
    running: Dict[int, list] = {}  # slot -> [run, its process]
    while pending or running:
        for slot_id, gpu in enumerate(slots):
            if slot_id not in running and pending:
                run = pending.pop(0)
                running[slot_id] = [run, _start(run, data, out_dir, tokens, gpu, max_seconds, python)]
        time.sleep(0.2)
        for slot_id, (run, proc) in list(running.items()):
            if proc.poll() is not None:
                del running[slot_id]
                if proc.returncode == 0:
                    open(os.path.join(out_dir, run.name, "done"), "w").close()
                else:
                    print(f"study: run {run.name} failed ({proc.returncode}); see its train.log", flush=True)


def _start(run: StudyRun, data: List[str], out_dir: str, tokens: int, gpu: Optional[str], max_seconds: float,
           python: str) -> subprocess.Popen:
    folder = os.path.abspath(os.path.join(out_dir, run.name))
    os.makedirs(folder, exist_ok=True)
    run.config.save(os.path.join(folder, "config.json"))
    flags = []
    for key, value in {**run.train, "steps": steps_for(run, tokens), "max_seconds": max_seconds}.items():
        flags += [f"--{key.replace('_', '-')}", str(value)]
    env = dict(os.environ)
    if gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = gpu
    log = open(os.path.join(folder, "train.log"), "w")
    return subprocess.Popen([python, "-m", "models.scripts.train", "--config", os.path.join(folder, "config.json"),
                             "--data", *map(os.path.abspath, data), "--out", folder, *flags], stdout=log,
                            stderr=subprocess.STDOUT, env=env, cwd=ROOT)


def evaluate(runs: List[StudyRun], out_dir: str, heldout_tokens: str, max_windows: int = 64,
             python: str = sys.executable) -> None:
    """Held-out loss of every finished run into out_dir/val_loss.json (one process, so GPUs are not contended)."""
    ckpts = [os.path.abspath(os.path.join(out_dir, r.name, "ckpt.pt")) for r in runs
             if os.path.exists(os.path.join(out_dir, r.name, "ckpt.pt"))]
    subprocess.run([python, "-m", "models.scripts.eval_loss", "--tokens", os.path.abspath(heldout_tokens),
                    "--max-windows", str(max_windows), "--out", os.path.abspath(os.path.join(out_dir, "val_loss.json")),
                    *ckpts], check=True, cwd=ROOT)


def folder_mb(cfg: ModelConfig, value_bits: int = 8) -> float:
    """Size of the exported graph (export.py, quantize.py): the embedding as int8 rows plus the tied LM head as
    8-bit blocks of 32 with an fp32 scale each, like every other matmul; MoE experts in 8 bits with an fp32 scale
    per output row of each expert matrix; the memory's query and folded keys in fp32 (retrieval stays exact); value
    rows of `value_bits` with an fp32 row scale; one int64 permutation that every layer shares (same seed: one
    initializer after constant folding)."""
    acc = count(cfg)
    embed = cfg.vocab_size * cfg.d_model
    fp32 = tables = rows = perm = expert_rows = 0
    if cfg.memory is not None:
        m, layers = cfg.memory, len(cfg.memory.pairs())
        fp32 = layers * (m.heads * cfg.d_model * 2 * m.key_dim + 2 * m.n_keys * m.key_dim * (m.tucker_rank + 1))
        tables, rows, perm = acc.table_params, layers * m.n_values, m.n_keys ** 2
    if cfg.moe is not None:
        expert_rows = cfg.n_layer * cfg.moe.n_experts * (2 * cfg.moe.expert_hidden + cfg.d_model)
    matmuls = acc.dense_params - fp32  # the embedding counts here too: the tied LM head reads it as a matmul
    return (embed + 4 * cfg.vocab_size + matmuls * (1 + 4 / 32) + acc.expert_params + 4 * expert_rows + 4 * fp32
            + tables * value_bits / 8 + 4 * rows + 8 * perm) / 1e6


def cpu_budget(runs: List[StudyRun], work_dir: str, rounds: int = 2, threads: int = 1, value_bits: int = 8) -> List[dict]:
    """The CPU side of each run's shape: random weights exported as the extension would load them (capacity KV
    layout, int8), timed by scripts/bench_ort.mjs (the worker's session options) in interleaved rounds; the best of
    the rounds per shape. Random weights time like trained ones."""
    import torch
    from .export import export_float
    from .model import Transformer
    from .quantize import quantize_file
    graphs = {}
    for run in runs:
        torch.manual_seed(0)
        float_path, path = (os.path.join(work_dir, f"{run.name}{suffix}.onnx") for suffix in (".float", ""))
        export_float(Transformer(run.config).eval(), float_path, kv_layout="capacity")
        quantize_file(float_path, path, value_bits=value_bits)
        os.remove(float_path)
        graphs[run.name] = path
    timings: Dict[str, List[dict]] = {name: [] for name in graphs}
    for _ in range(rounds):
        for run in runs:
            out = subprocess.run(["node", os.path.join(SCRIPTS, "bench_ort.mjs"), graphs[run.name], str(threads),
                                  str(run.config.vocab_size)], capture_output=True, text=True, check=True)
            timings[run.name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    fields = ("prefill512Ms", "prefill2048Ms", "decodeMsPerToken", "decode1536MsPerToken", "keystroke1536Ms")
    return [{"name": run.name, "graph_mb": round(os.path.getsize(graphs[run.name]) / 1e6, 1), "threads": threads,
             **{f: round(min(t[f] for t in timings[run.name]), 2) for f in fields}} for run in runs]


def budget_report(rows: List[dict], cpu: str) -> str:
    """The budget rows as a Markdown table, each timing also as a ratio to the first row's (the reference shape)."""
    fields = ("prefill512Ms", "prefill2048Ms", "decodeMsPerToken", "decode1536MsPerToken", "keystroke1536Ms")
    ref = rows[0]
    lines = [f"CPU flags: {cpu}; ratios against {ref['name']}", "",
             "| shape | graph MB | prefill 512 ms | prefill 2,048 ms | decode ms at 512 | decode ms at 1,536 | "
             "keystroke ms at 1,536 |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        cells = " | ".join(f"{r[f]:.1f} ({r[f] / ref[f]:.2f}x)" for f in fields)
        lines.append(f"| {r['name']} | {r['graph_mb']} | {cells} |")
    return "\n".join(lines) + "\n"


def summarize(runs: List[StudyRun], out_dir: str) -> List[dict]:
    val_path = os.path.join(out_dir, "val_loss.json")
    val = json.load(open(val_path)) if os.path.exists(val_path) else {}
    records = []
    for run in runs:
        folder = os.path.join(out_dir, run.name)
        metrics = os.path.join(folder, "metrics.jsonl")
        rows = [json.loads(line) for line in open(metrics)] if os.path.exists(metrics) else []
        acc = count(run.config)
        health = [r["memory"] for r in rows if "memory" in r]
        last = rows[-5:]
        records.append({
            "name": run.name, "group": run.group, "architecture": run.config.architecture, "why": run.why,
            "d_model": run.config.d_model, "n_layer": run.config.n_layer, "ffn_hidden": run.config.ffn_hidden,
            "memory": run.config.memory.__dict__ if run.config.memory else None,
            "activated_macs_m": round(acc.macs_per_token / 1e6, 2), "lm_head_macs_m": round(acc.lm_head_macs / 1e6, 2),
            "table_params_m": round(acc.table_params / 1e6, 1), "total_params_m": round(acc.total_params / 1e6, 1),
            "folder_mb": round(folder_mb(run.config), 1), "folder_mb_4bit_tables": round(folder_mb(run.config, 4), 1),
            "tokens": rows[-1]["tokens"] if rows else 0,
            "tokens_per_s": sorted(r["tokens_per_s"] for r in rows[1:])[len(rows[1:]) // 2] if len(rows) > 1 else None,
            "mfu": rows[-1].get("mfu") if rows else None,
            "train_loss": round(sum(r["loss"] for r in last) / len(last), 4) if last else None,
            "val_loss": val.get(os.path.join(folder, "ckpt.pt"), {}).get("val_loss"),
            "memory_health": health[-1] if health else None,
        })
    return records


def report(records: List[dict]) -> str:
    """A Markdown table, one row per run, grouped as the plan lists them."""
    lines = ["| group | run | d x layers (FFN) | activated MACs/token | tables | folder (4-bit tables) | tokens | "
             "tokens/s | train loss | held-out loss | memory rows hit / top-1% share / RMS vs FFN |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        val = r["val_loss"]["mean"] if r["val_loss"] else None
        h = r["memory_health"]
        health = (" / ".join(f"{sum(x[k] for x in h) / len(h):.2f}" for k in ("rows_hit", "top1pct_share", "rms_ratio"))
                  if h else "")
        lines.append(
            f"| {r['group']} | {r['name']} | {r['d_model']} x {r['n_layer']} ({r['ffn_hidden']}) | "
            f"{r['activated_macs_m']}M | {r['table_params_m']}M | {r['folder_mb']} ({r['folder_mb_4bit_tables']}) MB | "
            f"{r['tokens'] / 1e6:.0f}M | "
            f"{r['tokens_per_s'] or ''} | {r['train_loss'] or ''} | {val if val is not None else ''} | {health} |")
    return "\n".join(lines) + "\n"


def plot(records: List[dict], path: str) -> None:
    """Held-out loss against activated MACs (backbone and twins) and against table parameters (memory)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    series = {}
    for r in records:
        if r["val_loss"] is None:
            continue
        if r["group"] in ("backbone", "twins"):
            series.setdefault(("macs", r["architecture"]), []).append((r["activated_macs_m"], r["val_loss"]["mean"]))
        elif r["group"] == "memory":
            series.setdefault(("tables", "ultramem"), []).append((r["table_params_m"], r["val_loss"]["mean"]))
    for (axis, arch), points in sorted(series.items()):
        ax = left if axis == "macs" else right
        xs, ys = zip(*sorted(points))
        ax.plot(xs, ys, marker="o", label=arch)
    left.set_xlabel("activated MACs per token (millions)")
    right.set_xlabel("value-table parameters (millions), 2x backbone")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_ylabel("held-out loss (nats/token)")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
