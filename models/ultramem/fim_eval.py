"""Fill-in-the-middle evaluation: the tasks and their scoring.

Suites (one `FimTask` per hole):
  he-single, he-multi     human-eval-infilling single-line and multi-line (Bavarian et al. 2022): pass@1 by running
                          the problem's tests on prompt + completion + suffix
  safim-block, -control   SAFIM Python (Gong et al. 2024): pass@1 by running the program on every unit test
  safim-api               SAFIM Python API calls: pass when the completion's AST equals the ground truth's
  line, multiline         infilling on held-out files of every language (the corpus split by package): exact match
                          and edit similarity of one line's code, or of 2-6 whole lines

The completions come from the extension's pipeline (scripts/evaluate.py); a `line` hole keeps their first line. This
module only builds tasks and scores completions, so it runs anywhere.
"""
from __future__ import annotations

import ast
import difflib
import glob
import gzip
import json
import lzma
import os
import random
import resource
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from typing import Dict, Iterable, List

SUITES = ("he-single", "he-multi", "safim-block", "safim-control", "safim-api", "line", "multiline")
EXECUTED = ("he-single", "he-multi", "safim-block", "safim-control")   # scored by running tests
PREFIX_CHARS, SUFFIX_CHARS = 8000, 3000   # text kept around a hole before token-level truncation


@dataclass
class FimTask:
    suite: str
    task_id: str
    lang: str
    prefix: str
    suffix: str
    reference: str                 # the removed middle
    mode: str                      # "line" (the completion's first line) or "block" (all of it)
    keep_newline: bool = False     # a whole-line hole (he-single): the completion keeps its final newline
    check: Dict = field(default_factory=dict)   # what scoring needs: tests, entry point, unit tests

    def to_json(self) -> Dict:
        return asdict(self)


def _jsonl(path: str) -> List[Dict]:
    opener = gzip.open if path.endswith(".gz") else lzma.open if path.endswith(".xz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def humaneval_tasks(evals_dir: str, which: str) -> List[FimTask]:
    """which: "single" or "multi" (HumanEval-SingleLineInfilling / MultiLineInfilling)."""
    name = {"single": "SingleLine", "multi": "MultiLine"}[which]
    rows = _jsonl(os.path.join(evals_dir, "human-eval-infilling", f"HumanEval-{name}Infilling.jsonl.gz"))
    return [FimTask(suite=f"he-{which}", task_id=r["task_id"], lang="python", prefix=r["prompt"],
                    suffix=r["suffix"], reference=r["canonical_solution"],
                    mode="line" if which == "single" else "block", keep_newline=which == "single",
                    check={"test": r["test"], "entry_point": r["entry_point"]}) for r in rows]


def safim_tasks(evals_dir: str, split: str, lang: str = "python") -> List[FimTask]:
    """split: "block", "control" or "api"; the hole is `{{completion}}` in the task's eval_prompt."""
    tasks = []
    for r in _jsonl(os.path.join(evals_dir, "safim", f"{split}_completion.jsonl.gz")):
        if r["lang"] != lang:
            continue
        prefix, suffix = r["eval_prompt"].split("{{completion}}", 1)
        tasks.append(FimTask(suite=f"safim-{split}", task_id=f"{split}/{r['task_id']}", lang=lang, prefix=prefix,
                             suffix=suffix, reference=r["ground_truth"],
                             mode="block" if split == "block" else "line",
                             check={"unit_tests": r["unit_tests"] or []}))
    return tasks


def heldout_tasks(heldout_dir: str, per_lang: int, seed: int = 0) -> List[FimTask]:
    """`per_lang` line holes and `per_lang` multi-line holes per language from the held-out shards
    (<lang>-NNNNN.jsonl.xz). Each hole is in its own file where there are enough files; the draw depends only on
    the seed and the shard contents. A line hole is one line's code after its indentation; a multi-line hole is
    2-6 whole lines from the first one's code on, so the cursor sits where a developer starts typing."""
    by_lang: Dict[str, List[Dict]] = {}
    for path in sorted(glob.glob(os.path.join(heldout_dir, "*.jsonl.xz"))):
        lang = os.path.basename(path).rsplit("-", 1)[0]
        by_lang.setdefault(lang, []).extend(_jsonl(path))
    tasks = []
    for lang, docs in sorted(by_lang.items()):
        rng = random.Random(f"{seed}:{lang}")
        order = list(range(len(docs)))
        rng.shuffle(order)
        for suite in ("line", "multiline"):
            made, tries = 0, 0
            while made < per_lang and tries < 20 * per_lang and order:
                doc = docs[order[tries % len(order)]]
                tries += 1
                hole = _pick_hole(doc["text"], suite == "multiline", rng)
                if hole is None:
                    continue
                prefix, middle, suffix = hole
                tasks.append(FimTask(suite=suite, task_id=f"{lang}/{doc['package']}/{doc['path']}#{made}", lang=lang,
                                     prefix=prefix[-PREFIX_CHARS:], suffix=suffix[:SUFFIX_CHARS], reference=middle,
                                     mode="block" if suite == "multiline" else "line"))
                made += 1
    return tasks


def _pick_hole(text: str, multiline: bool, rng: random.Random):
    lines = text.split("\n")
    code = [i for i, line in enumerate(lines) if len(line.strip()) >= 6 and i >= 2]
    if not code:
        return None
    first = rng.choice(code)
    last = min(len(lines) - 1, first + rng.randint(1, 5)) if multiline else first
    if multiline and last == first:
        return None
    start = sum(len(line) + 1 for line in lines[:first]) + len(lines[first]) - len(lines[first].lstrip())
    end = sum(len(line) + 1 for line in lines[:last]) + len(lines[last].rstrip())
    middle = text[start:end]
    if not middle.strip() or len(middle) > 600:
        return None
    return text[:start], middle, text[end:]


def cut_completion(task: FimTask, generated: str) -> str:
    """The completion scored for the hole: a line hole ends at the first newline (kept for a whole-line hole); a
    block hole takes the completion as it came."""
    if task.mode == "line":
        head, newline, _ = generated.partition("\n")
        return head + ("\n" if task.keep_newline and newline else "")
    return generated


def _normalize(s: str) -> str:
    return "\n".join(line.rstrip() for line in s.strip("\n").split("\n")).strip()


def exact_match(completion: str, reference: str) -> bool:
    """Equal up to trailing spaces on each line and blank lines around."""
    return _normalize(completion) == _normalize(reference)


def edit_similarity(completion: str, reference: str) -> float:
    """Similarity in [0, 1]: difflib's ratio 2M/T on the normalized strings (the measure behind CodeXGLUE's
    line-completion edit similarity, fuzzywuzzy's ratio / 100)."""
    a, b = _normalize(completion), _normalize(reference)
    if not a and not b:
        return 1.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _limits():
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    os.setsid()


def _run_python(program: str, stdin: str, timeout: float):
    """(return code, stdout) of `python3 -I` on the program in a scratch folder; (-1, "") on a timeout."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "program.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(program)
        try:
            proc = subprocess.run([sys.executable, "-I", path], input=stdin, capture_output=True, text=True,
                                  timeout=timeout, cwd=tmp, preexec_fn=_limits)
        except subprocess.TimeoutExpired:
            return -1, ""
        return proc.returncode, proc.stdout


def _same_output(got: str, accepted: Iterable[str]) -> bool:
    tokens = got.lower().split()
    return any(tokens == want.lower().split() for want in accepted)


def _same_ast(completion: str, reference: str) -> bool:
    def dump(src):
        for mode in ("eval", "exec"):
            try:
                return ast.dump(ast.parse(src.strip(), mode=mode))
            except SyntaxError:
                continue
        return None
    got = dump(completion)
    return got is not None and got == dump(reference)


def passes(task: FimTask, completion: str, timeout: float = 3.0) -> bool:
    """pass@1 verdict of one completion (executed suites and safim-api)."""
    program = task.prefix + completion + task.suffix
    if task.suite.startswith("he-"):
        program += f"\n{task.check['test']}\ncheck({task.check['entry_point']})\n"
        return _run_python(program, "", timeout)[0] == 0
    if task.suite == "safim-api":
        return _same_ast(completion, task.reference)
    if task.suite.startswith("safim-"):
        tests = task.check["unit_tests"]
        for test in tests:
            code, out = _run_python(program, test["input"], 2 * timeout)
            if code != 0 or not _same_output(out, test["output"]):
                return False
        return bool(tests)
    raise ValueError(f"{task.suite} is scored by exact match and edit similarity, not run")


def repeats_line_above(task: FimTask, completion: str) -> bool:
    """The completed cursor line (the prefix's last line and the completion's first) copies the line above it: the
    commonest wrong answer of a model that copies more than it composes (0.14% of held-out code lines do it)."""
    lines = task.prefix.split("\n")
    above = lines[-2].strip() if len(lines) > 1 else ""
    return bool(above) and (lines[-1] + completion.split("\n")[0]).strip() == above


def score(task: FimTask, completion: str) -> Dict:
    result = {"em": exact_match(completion, task.reference), "es": edit_similarity(completion, task.reference),
              "repeats_line_above": repeats_line_above(task, completion)}
    if task.suite in EXECUTED or task.suite == "safim-api":
        result["pass"] = passes(task, completion)
    return result


def summarize(records: List[Dict]) -> Dict:
    """Per suite (and per language for the held-out suites): n, pass@1 where scored, EM and ES, and the share of
    answers that repeat the line above the cursor, in percent."""
    groups: Dict[str, List[Dict]] = {}
    for r in records:
        groups.setdefault(r["suite"], []).append(r)
        if r["suite"] in ("line", "multiline"):
            groups.setdefault(f"{r['suite']}/{r['lang']}", []).append(r)
    out = {}
    for key, rows in sorted(groups.items()):
        n = len(rows)
        s = {"n": n, "em": round(100 * sum(r["em"] for r in rows) / n, 1),
             "es": round(100 * sum(r["es"] for r in rows) / n, 1),
             "repeats_line_above": round(100 * sum(r.get("repeats_line_above", False) for r in rows) / n, 1)}
        if "pass" in rows[0]:
            s["pass@1"] = round(100 * sum(r["pass"] for r in rows) / n, 1)
        out[key] = s
    return out
