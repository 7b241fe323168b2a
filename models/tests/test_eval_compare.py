"""scripts/eval_compare.py: the paired comparison counts the tasks that flip and tests whether the flips lean one way."""
import gzip
import json

import pytest

from models.scripts.eval_compare import compare, read_records, sign_test_p


def record(suite, task, solved, es, tested=True):
    return {"suite": suite, "task_id": task, "em": "False", "es": str(es),
            "pass": str(solved) if tested else "None", **({} if tested else {"em": str(solved)})}


def write(path, records):
    with gzip.open(path, "wt") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)
    return str(path)


def test_flips_are_counted_per_suite_and_in_all(tmp_path):
    old = [record("he", "a", True, 1.0), record("he", "b", False, 0.5), record("line", "c", False, 0.2, tested=False)]
    new = [record("he", "a", False, 0.5), record("he", "b", True, 1.0), record("line", "c", True, 1.0, tested=False)]
    rows = compare(read_records(write(tmp_path / "old.gz", old)), read_records(write(tmp_path / "new.gz", new)))
    assert (rows["he"]["new_only"], rows["he"]["old_only"]) == (1, 1)
    assert (rows["line"]["new_only"], rows["line"]["old_only"]) == (1, 0)  # exact match where no tests ran
    assert rows["all"]["tasks"] == 3 and rows["all"]["new_only"] == 2
    assert rows["line"]["es_change"] == pytest.approx(80.0)


def test_sign_test():
    assert sign_test_p(0, 0) == 1.0
    assert sign_test_p(5, 5) == 1.0
    assert sign_test_p(10, 0) == pytest.approx(2 / 2 ** 10)
    assert sign_test_p(34, 40) > 0.5  # the eighth run against the seventh: no lean either way


def test_runs_over_different_tasks_are_refused(tmp_path):
    old = read_records(write(tmp_path / "old.gz", [record("he", "a", True, 1.0)]))
    new = read_records(write(tmp_path / "new.gz", [record("he", "b", True, 1.0)]))
    with pytest.raises(ValueError, match="same tasks"):
        compare(old, new)
