"""FIM evaluation harness (ultramem/fim_eval.py): task loading and scoring, on the real evaluation files."""
import gzip
import json
import lzma
import os
import shutil
import subprocess
import sys

import pytest

from models.ultramem import fim_eval
from models.ultramem.fim_eval import FimTask

MODELS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EVALS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "evals")
needs_evals = pytest.mark.skipif(not os.path.isdir(EVALS), reason="shared/evals is not beside the checkout")


@needs_evals
def test_humaneval_harness_self_check_scores_030():
    """The samples shipped with human-eval-infilling must score pass@1 = 0.30 (its README)."""
    folder = os.path.join(EVALS, "human-eval-infilling")
    problem = json.loads(open(os.path.join(folder, "example_problem.jsonl")).read())
    samples = [json.loads(line) for line in open(os.path.join(folder, "example_samples.jsonl"))]
    task = FimTask(suite="he-multi", task_id=problem["task_id"], lang="python", prefix=problem["prompt"],
                   suffix=problem["suffix"], reference=problem["canonical_solution"], mode="block",
                   check={"test": problem["test"], "entry_point": problem["entry_point"]})
    verdicts = [fim_eval.passes(task, s["completion"], timeout=3.0) for s in samples]
    assert sum(verdicts) / len(verdicts) == pytest.approx(0.30)


@needs_evals
@pytest.mark.parametrize("which,count", [("single", 1033), ("multi", 5815)])
def test_humaneval_tasks_pass_with_the_canonical_solution(which, count):
    tasks = fim_eval.humaneval_tasks(EVALS, which)
    assert len(tasks) == count
    for task in tasks[:: len(tasks) // 8]:
        assert fim_eval.passes(task, task.reference)
        assert not fim_eval.passes(task, "    raise ValueError\n")


@needs_evals
def test_safim_python_tasks_split_and_score():
    block = fim_eval.safim_tasks(EVALS, "block")
    control = fim_eval.safim_tasks(EVALS, "control")
    api = fim_eval.safim_tasks(EVALS, "api")
    assert (len(block), len(control), len(api)) == (805, 750, 181)
    for task in (block[3], control[3]):
        assert fim_eval.passes(task, task.reference)
        assert not fim_eval.passes(task, "pass")
    assert fim_eval.passes(api[0], " " + api[0].reference + "  ")
    assert not fim_eval.passes(api[0], "foo(")


def test_cut_completion_by_hole_mode():
    line = FimTask("line", "t", "go", "a", "b", "x := 1", "line")
    whole = FimTask("he-single", "t", "python", "a", "b", "    return 1\n", "line", keep_newline=True)
    block = FimTask("multiline", "t", "go", "a", "b", "x\ny", "block")
    assert fim_eval.cut_completion(line, "x := 1\ny := 2") == "x := 1"
    assert fim_eval.cut_completion(whole, "    return 1\n    pass") == "    return 1\n"
    assert fim_eval.cut_completion(whole, "    return 1") == "    return 1"
    assert fim_eval.cut_completion(block, "x\ny\n") == "x\ny\n"


def test_exact_match_and_edit_similarity():
    assert fim_eval.exact_match("x = 1  \n", "x = 1")
    assert not fim_eval.exact_match("x = 2", "x = 1")
    assert fim_eval.edit_similarity("abcd", "abcd") == 1.0
    assert fim_eval.edit_similarity("abcd", "abce") == pytest.approx(0.75)
    assert fim_eval.edit_similarity("", "") == 1.0


def test_heldout_tasks_are_deterministic_and_rebuild_the_file(tmp_path):
    text = "\n".join(f"def f{i}(x):\n    return x + {i}  # line {i}" for i in range(40)) + "\n"
    for lang in ("python", "go"):
        with lzma.open(tmp_path / f"{lang}-00000.jsonl.xz", "wt") as f:
            for k in range(3):
                f.write(json.dumps({"text": text, "package": f"p{k}", "path": f"a{k}.py"}) + "\n")
    tasks = fim_eval.heldout_tasks(str(tmp_path), per_lang=4, seed=7)
    again = fim_eval.heldout_tasks(str(tmp_path), per_lang=4, seed=7)
    assert [t.to_json() for t in tasks] == [t.to_json() for t in again]
    assert {(t.lang, t.suite) for t in tasks} == {(lang, s) for lang in ("python", "go") for s in ("line", "multiline")}
    assert len(tasks) == 16
    for t in tasks:
        assert t.prefix + t.reference + t.suffix == text
        assert t.reference == t.reference.strip() and (t.reference.count("\n") >= 1) == (t.suite == "multiline")


def test_an_answer_that_copies_the_line_above_the_cursor_is_counted():
    task = FimTask("line", "t", "python", "    total = 0\n    tot", "\n    return total", "al += x", "line")
    assert fim_eval.repeats_line_above(task, "al = 0")          # the cursor's line becomes "    total = 0"
    assert not fim_eval.repeats_line_above(task, "al += x")
    assert not fim_eval.repeats_line_above(FimTask("line", "t", "python", "\n", "", "", "line"), "")  # blank above
    assert fim_eval.score(task, "al = 0\n")["repeats_line_above"]


def test_summarize_percentages():
    records = [{"suite": "he-single", "lang": "python", "em": True, "es": 1.0, "pass": True},
               {"suite": "he-single", "lang": "python", "em": False, "es": 0.5, "pass": False,
                "repeats_line_above": True},
               {"suite": "line", "lang": "go", "em": True, "es": 1.0}]
    s = fim_eval.summarize(records)
    assert s["he-single"] == {"n": 2, "em": 50.0, "es": 75.0, "pass@1": 50.0, "repeats_line_above": 50.0}
    assert s["line/go"]["n"] == 1 and "pass@1" not in s["line"]


@needs_evals
@pytest.mark.skipif(shutil.which("node") is None or not os.path.exists(os.path.join(MODELS, "..", "dist", "cli.js")),
                    reason="needs node and dist/cli.js (npm run build)")
def test_evaluate_script_runs_the_extension_pipeline(tmp_path):
    """scripts/evaluate.py end to end on the tiny fixture (2 tasks per suite): completions from the extension's own
    pipeline (dist/cli.js --jsonl), then scoring."""
    proc = subprocess.run([sys.executable, "-m", "models.scripts.evaluate", "--model",
                           os.path.join(MODELS, "tiny-fixture"), "--suites", "he-single,safim-control", "--limit", "2",
                           "--workers", "1", "--out", str(tmp_path)], capture_output=True, text=True, timeout=300,
                          cwd=os.path.dirname(MODELS))
    assert proc.returncode == 0, proc.stderr[-2000:]
    name = json.load(open(os.path.join(MODELS, "tiny-fixture", "manifest.json")))["name"]
    with gzip.open(tmp_path / f"{name}.records.jsonl.gz", "rt") as f:
        records = [json.loads(line) for line in f]
    summary = json.load(open(tmp_path / f"{name}.summary.json"))
    assert summary["decoding"] == "extension" and summary["tasks_done"] == 4
    assert summary["suites"]["he-single"]["n"] == 2 and "pass@1" in summary["suites"]["safim-control"]
    assert all("\n" not in r["completion"].rstrip("\n") and r["stop"] for r in records)
