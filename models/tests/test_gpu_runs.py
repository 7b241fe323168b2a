"""The GPU runs as data (models/gpu/runs.json, read by models/gpu/phases.py for gpu_run.sh): every run names a
preset or a config that exists and a valid model-folder name; the probe's rates and the steps that follow."""
import json
import os
import re

import pytest

from models.gpu import phases
from models.ultramem.presets import PRESETS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_every_run_trains_a_preset_or_a_config_and_exports_under_a_folder_name():
    runs = json.load(open(os.path.join(ROOT, "models", "gpu", "runs.json")))
    assert {"ultramem", "dense", "moe", "pkm", "grown"} <= set(runs)
    for run in runs:
        flags = phases.run_spec(run)["train"]
        assert ("--preset" in flags) != ("--config" in flags), run
        if "--preset" in flags:
            assert flags[flags.index("--preset") + 1] in PRESETS, run
        else:
            assert os.path.exists(os.path.join(ROOT, flags[flags.index("--config") + 1])), run
        export = phases.export_flags(run)
        assert re.fullmatch(r"[a-z0-9-]+", export[export.index("--name") + 1]), run
        assert export[export.index("--display-name") + 1], run


def test_an_unlisted_run_needs_a_study_config():
    with pytest.raises(AssertionError):
        phases.run_spec("no-such-run")


def test_probe_rates_skip_the_first_logged_step_and_steps_follow_the_slowest_run(tmp_path):
    for run, rate in (("fast", 4000), ("slow", 1000)):
        os.makedirs(tmp_path / "probe" / run)
        rows = [{"tokens": 0, "elapsed_s": 0.0}, {"tokens": 100, "elapsed_s": 50.0},
                {"tokens": 100 + 30 * rate, "elapsed_s": 80.0}]
        with open(tmp_path / "probe" / run / "metrics.jsonl", "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
    rates = phases.probe_rates(str(tmp_path), ["fast", "slow"])
    assert rates == {"tokens_per_s": {"fast": 4000, "slow": 1000}}
    json.dump(rates, open(tmp_path / "probe.json", "w"))
    assert phases.steps_in(str(tmp_path / "probe.json"), 65536 * 0.25) == 200   # 250 steps, in whole hundreds
