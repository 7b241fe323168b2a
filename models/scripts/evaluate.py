"""FIM evaluation of exported model folders: human-eval-infilling, SAFIM Python and held-out infilling per language.

The completions come from the extension itself: its CLI, `dist/cli.js --jsonl` (built by `npm run build`), runs the
editor's completion pipeline and worker (src/completion, src/worker) on each task, so the numbers measure what a
user is shown: the same FIM prompt (the manifest's order and the shipped budgets), token healing, greedy decoding,
stop rules, post-filters and at most 8 lines. Then scoring by ultramem/fim_eval.py. Needs node; the GPU machine has
none, so models are evaluated here after they come back (models/README.md).

  python3 -m models.scripts.evaluate --model models/ultramem-code-s --heldout data/corpus/shards/heldout \
      --per-lang 14 --limit 210 --workers 2 --out data/eval
  python3 -m models.scripts.evaluate --model FOLDER --suites he-single --limit 50 --workers 2 --out /tmp/eval

Writes OUT/<model name>.summary.json (per suite, and per language for the held-out suites: n, pass@1, EM, ES)
and OUT/<model name>.records.jsonl.gz (every task's completion and verdict), and prints the summary. Tasks run in
a seeded shuffled order; with --deadline the run stops taking new tasks after that many seconds, so what finished
is still a uniform sample of each suite (the summary's n says how many).
"""
import argparse
import gzip
import json
import multiprocessing as mp
import os
import random
import subprocess
import time

from models.ultramem import fim_eval
from models.ultramem.fim_eval import FimTask

EVALS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "evals")


class ExtensionPipeline:
    """One `dist/cli.js --jsonl` process: the extension's pipeline and worker with one model folder loaded."""

    CLI = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "dist", "cli.js")
    LANGUAGE_IDS = {"shell": "shellscript"}   # corpus language -> VS Code language id, where they differ

    def __init__(self, folder: str, prompt_tokens: int):
        if not os.path.exists(self.CLI):
            raise SystemExit(f"{self.CLI} is missing: run `npm run build` first")
        budget = ["--max-prompt-tokens", str(prompt_tokens)] if prompt_tokens else []
        self.proc = subprocess.Popen(["node", self.CLI, "--model", folder, "--jsonl", *budget], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)

    def generate(self, task: FimTask):
        language = self.LANGUAGE_IDS.get(task.lang, task.lang)
        # A hole of whole lines (it ends with its newline): in the editor the cursor sits on a line with nothing after
        # it and the rest of the file below, so the pipeline gets that newline in the suffix and the completion gets
        # it back (without it the next line would follow the cursor on the same line)
        ends_line = task.reference.endswith("\n")
        suffix = "\n" + task.suffix if ends_line else task.suffix
        self.proc.stdin.write(json.dumps({"prefix": task.prefix, "suffix": suffix, "language": language}) + "\n")
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"dist/cli.js exited ({self.proc.wait()})")
        r = json.loads(line)
        if r.get("error"):
            raise RuntimeError(f"dist/cli.js: {r['error']}")
        completion = r["completion"] + ("\n" if ends_line and r["completion"] else "")
        return completion, {"total_ms": r["ms"], "stop": r["stopReason"] or r["skip"]}


_GEN = None
_DEADLINE = None


def _init(folder, prompt_tokens, deadline):
    global _GEN, _DEADLINE
    _GEN = ExtensionPipeline(folder, prompt_tokens)
    _DEADLINE = deadline


def _run(task_json):
    if _DEADLINE is not None and time.time() > _DEADLINE:
        return None
    task = FimTask(**task_json)
    generated, timing = _GEN.generate(task)
    completion = fim_eval.cut_completion(task, generated)
    return {"suite": task.suite, "task_id": task.task_id, "lang": task.lang, "completion": completion,
            **fim_eval.score(task, completion), **timing}


def load_tasks(args):
    tasks = []
    for suite in args.suites:
        if suite in ("he-single", "he-multi"):
            tasks += fim_eval.humaneval_tasks(args.evals, suite[3:])
        elif suite.startswith("safim-"):
            tasks += fim_eval.safim_tasks(args.evals, suite[6:])
    if {"line", "multiline"} & set(args.suites):
        tasks += [t for t in fim_eval.heldout_tasks(args.heldout, args.per_lang, args.seed) if t.suite in args.suites]
    if args.limit:
        by_suite = {}
        for t in tasks:
            by_suite.setdefault(t.suite, []).append(t)
        tasks = [t for rows in by_suite.values() for t in random.Random(args.seed).sample(rows, min(args.limit, len(rows)))]
    random.Random(args.seed).shuffle(tasks)
    return tasks


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", required=True, help="model folder (repeat for several)")
    ap.add_argument("--suites", default=",".join(fim_eval.SUITES))
    ap.add_argument("--evals", default=EVALS)
    ap.add_argument("--heldout", help="held-out shards folder (<lang>-NNNNN.jsonl.xz), for line and multiline")
    ap.add_argument("--per-lang", type=int, default=100, help="held-out holes per language and suite")
    ap.add_argument("--limit", type=int, default=0, help="at most this many tasks per suite (a seeded sample)")
    ap.add_argument("--prompt-tokens", type=int, default=0,
                    help="prompt budget (the CLI's --max-prompt-tokens; default: the extension's setting)")
    ap.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    ap.add_argument("--deadline", type=float, default=0, help="seconds per model after which no task starts")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--name-suffix", default="", help="appended to the model name in the output file names")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    args.suites = [s for s in args.suites.split(",") if s]
    unknown = set(args.suites) - set(fim_eval.SUITES)
    if unknown or ({"line", "multiline"} & set(args.suites) and not args.heldout):
        ap.error(f"unknown suites {sorted(unknown)}" if unknown else "--heldout is needed for line/multiline")
    os.makedirs(args.out, exist_ok=True)
    tasks = [t.to_json() for t in load_tasks(args)]
    for folder in args.model:
        name = json.load(open(os.path.join(folder, "manifest.json")))["name"] + args.name_suffix
        t0 = time.time()
        deadline = t0 + args.deadline if args.deadline else None
        ctx = mp.get_context("fork")
        with ctx.Pool(args.workers, initializer=_init, initargs=(folder, args.prompt_tokens, deadline)) as pool:
            records = [r for r in pool.imap_unordered(_run, tasks, chunksize=4) if r is not None]
        summary = {"model": name, "folder": os.path.abspath(folder), "wall_s": round(time.time() - t0, 1),
                   "tasks_total": len(tasks), "tasks_done": len(records), "workers": args.workers,
                   "prompt_tokens": args.prompt_tokens or "extension default", "per_lang": args.per_lang,
                   "decoding": "extension", "limit": args.limit, "seed": args.seed,
                   "suites": fim_eval.summarize(records)}
        with gzip.open(os.path.join(args.out, f"{name}.records.jsonl.gz"), "wt", encoding="utf-8") as f:
            for r in sorted(records, key=lambda r: (r["suite"], r["task_id"])):
                f.write(json.dumps(r) + "\n")
        with open(os.path.join(args.out, f"{name}.summary.json"), "w") as f:
            json.dump(summary, f, indent=1)
        print(f"{name}: {len(records)}/{len(tasks)} tasks in {summary['wall_s']} s", flush=True)
        for key, s in summary["suites"].items():
            print(f"  {key:24s} " + "  ".join(f"{k} {v}" for k, v in s.items()), flush=True)


if __name__ == "__main__":
    main()
