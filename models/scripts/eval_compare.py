"""Paired comparison of two models' evaluate.py records on the same tasks: per suite, the tasks only the new model
gets right and those only the old one does, the mean change in edit similarity, and a two-sided sign test over the
tasks where they differ.

Why paired: with 210 tasks a suite, a pass rate moves by 2-3 points between two equally good models, so comparing
rates says little; counting the tasks that flip, and asking whether the flips lean one way, uses that both models saw
the same tasks.

  python3 -m models.scripts.eval_compare OLD.records.jsonl.gz NEW.records.jsonl.gz [--json OUT]
"""
import argparse
import gzip
import json
import math
from collections import defaultdict
from typing import Dict, Tuple


def read_records(path: str) -> Dict[Tuple[str, str], dict]:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return {(r["suite"], r["task_id"]): r for r in map(json.loads, f)}


def solved(record: dict) -> bool:
    """pass@1 where the suite runs tests, exact match elsewhere (the records store both as strings or booleans)."""
    value = record["pass"] if record.get("pass") not in (None, "None") else record["em"]
    return value in (True, "True")


def sign_test_p(wins: int, losses: int) -> float:
    """Two-sided binomial test of wins against losses at p = 1/2 (ties left out)."""
    n, k = wins + losses, min(wins, losses)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def compare(old: Dict[Tuple[str, str], dict], new: Dict[Tuple[str, str], dict]) -> Dict[str, dict]:
    missing = set(old) ^ set(new)
    if missing:
        raise ValueError(f"the two runs did not see the same tasks: {len(missing)} differ, e.g. {sorted(missing)[0]}")
    rows = defaultdict(lambda: {"tasks": 0, "new_only": 0, "old_only": 0, "es_change": 0.0})
    for key in sorted(old):
        for suite in (key[0], "all"):
            row = rows[suite]
            row["tasks"] += 1
            row["new_only"] += solved(new[key]) and not solved(old[key])
            row["old_only"] += solved(old[key]) and not solved(new[key])
            row["es_change"] += float(new[key]["es"]) - float(old[key]["es"])
    for row in rows.values():
        row["es_change"] = round(100 * row["es_change"] / row["tasks"], 2)
        row["sign_test_p"] = round(sign_test_p(row["new_only"], row["old_only"]), 3)
    return dict(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--json", help="write the table as JSON too")
    args = ap.parse_args()
    rows = compare(read_records(args.old), read_records(args.new))
    print("| suite | tasks | solved only by the new | only by the old | edit similarity change | sign test p |")
    print("|---|---|---|---|---|---|")
    for suite, r in sorted(rows.items(), key=lambda kv: (kv[0] == "all", kv[0])):
        print(f"| {suite} | {r['tasks']} | {r['new_only']} | {r['old_only']} | {r['es_change']:+.2f} | {r['sign_test_p']} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
