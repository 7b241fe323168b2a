"""The scaling study's runner end to end on CPU: a plan of tiny runs is trained two at a time, evaluated on held-out
tokens, summarized and reported; and the committed plan resolves to the configs it describes."""
import json
import os

import numpy as np
import pytest

from models.tests.conftest import tiny_config
from models.ultramem import study
from models.ultramem.accounting import count

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "ultramem", "model.py")


def tiny_plan():
    base = tiny_config().to_dict()
    return {"base": base, "experts": 4,
            "train": {"batch_size": 4, "seq_len": 32, "lr": 3e-3, "warmup_steps": 1, "log_every": 1,
                      "health_every": 2},
            "runs": [{"name": "small", "group": "backbone"},
                     {"name": "wide", "group": "backbone", "model": {"ffn_hidden": 192, "memory.topk": 4}},
                     {"name": "small-dense", "group": "twins", "twin": "dense", "of": "small"}]}


def test_a_plan_of_tiny_runs_trains_evaluates_and_reports(tmp_path):
    tokens = np.frombuffer(open(CORPUS, "rb").read()[:4096], dtype=np.uint8).astype(np.uint16)
    tokens.tofile(tmp_path / "train.bin")
    (tmp_path / "heldout").mkdir()
    tokens[::-1].copy().tofile(tmp_path / "heldout" / "heldout_python.bin")
    runs = study.resolve(tiny_plan())
    out = str(tmp_path / "study")
    study.launch(runs, [str(tmp_path / "train.bin")], out, tokens=4 * 32 * 3, per_gpu=2)
    assert all(os.path.exists(os.path.join(out, r.name, "done")) for r in runs)
    study.evaluate(runs, out, str(tmp_path / "heldout"), max_windows=4)
    records = study.summarize(runs, out)
    by_name = {r["name"]: r for r in records}
    assert by_name["small"]["tokens"] == 4 * 32 * 3 and by_name["wide"]["ffn_hidden"] == 192
    assert all(r["val_loss"]["python"] > 0 for r in records)
    assert by_name["small"]["memory_health"] and by_name["small-dense"]["memory_health"] is None
    assert by_name["small-dense"]["architecture"] == "dense"
    table = study.report(records)
    assert table.count("\n") == 2 + len(runs) and "small-dense" in table
    mtime = os.path.getmtime(os.path.join(out, "small", "ckpt.pt"))
    study.launch(runs, [str(tmp_path / "train.bin")], out, tokens=4 * 32 * 3)  # done runs are not trained again
    assert os.path.getmtime(os.path.join(out, "small", "ckpt.pt")) == mtime


def test_the_committed_plan_resolves_to_its_stated_shapes():
    plan = json.load(open(os.path.join(ROOT, "study", "scaling.json")))
    runs = {r.name: r for r in study.resolve(plan)}
    assert len(runs) == len(plan["runs"])
    shipped = count(runs["backbone-1x"].config)
    assert shipped.macs_per_token == pytest.approx(7.28e6, rel=0.01)  # today's shape
    assert count(runs["backbone-4x"].config).macs_per_token >= 4 * shipped.macs_per_token
    assert count(runs["memory-8x"].config).table_params >= 8 * shipped.table_params
    for size in ("1x", "4x"):  # twins of equal activated compute
        um = count(runs[f"backbone-{size}"].config).macs_per_token
        for twin in ("dense", "moe"):
            assert count(runs[f"{twin}-{size}"].config).macs_per_token == pytest.approx(um, rel=0.01)
    ablation = {r.name for r in runs.values() if r.group == "ablation"}
    assert {"shipped-setup", "matched-init", "heads-2", "value-lr-4x-constant"} <= ablation
    with pytest.raises(KeyError, match="names no config field"):
        study.resolve({**plan, "runs": [{"name": "x", "group": "g", "model": {"memory.top_k": 8}}]})


def test_cpu_budget_times_every_shape_as_the_extension_loads_it(tmp_path):
    plan = tiny_plan()
    plan["base"]["context_length"] = 2048  # bench_ort.mjs prefills 2,048 tokens
    runs = study.resolve(plan, ["backbone"])
    rows = study.cpu_budget(runs, str(tmp_path), rounds=1)
    assert [r["name"] for r in rows] == ["small", "wide"]
    assert all(r["decodeMsPerToken"] > 0 and r["prefill2048Ms"] > r["prefill512Ms"] and r["graph_mb"] > 0 for r in rows)
    table = study.budget_report(rows, "avx2")
    assert "(1.00x)" in table.splitlines()[4] and table.count("\n") == 4 + len(rows)
