"""Writes the evaluation tables into models/README.md and the completion examples into the shipped model's card.

Reads what the GPU run brought back (scripts/gpu_run.sh): validation losses (eval_loss.py), FIM summaries and records
(evaluate.py), and the ORT CPU benchmark rows (bench_ort.py --json). Replaces the text between
`<!-- eval:begin -->` and `<!-- eval:end -->` in the README, and between `<!-- examples:begin -->` and
`<!-- examples:end -->` in the card.

Examples are chosen by rule, not by hand: for every language, the first --per-lang held-out multi-line holes in the
order the seeded task builder drew them (fim_eval.heldout_tasks, the same draw evaluate.py made), whatever their
score.

  python3 models/scripts/eval_report.py --run models/logs/RUN --bench models/logs/RUN/bench_ort.json \
      --heldout data/corpus/shards/heldout --readme models/README.md --card models/ultramem-code-s/README.md
"""
import argparse
import gzip
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from ultramem import fim_eval  # noqa: E402

# (run name in gpu_run.sh, model folder name, bench_ort.py model name)
MODELS = (("ultramem", "ultramem-code-s", "ultramem"), ("dense", "dense-twin-s", "dense"),
          ("moe", "moe-twin-s", "moe"), ("pkm", None, None))
FENCE = {"typescript": "ts", "javascript": "js", "python": "python", "go": "go", "rust": "rust", "java": "java",
         "c": "c", "cpp": "cpp", "csharp": "csharp", "shell": "sh", "json": "json", "yaml": "yaml",
         "markdown": "markdown", "html": "html", "css": "css"}


def replace_between(path: str, tag: str, body: str):
    text = open(path, encoding="utf-8").read()
    begin, end = f"<!-- {tag}:begin -->", f"<!-- {tag}:end -->"
    if begin not in text or end not in text:
        raise SystemExit(f"{path} has no {begin} ... {end} markers")
    head, rest = text.split(begin, 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{head}{begin}\n{body.rstrip()}\n{end}{rest.split(end, 1)[1]}")


def fmt(v, digits=1):
    return "–" if v is None else f"{v:.{digits}f}"


def load(run_dir: str, bench_path: str):
    val = {}
    for ckpt, r in json.load(open(os.path.join(run_dir, "val_loss.json"))).items():
        val[os.path.basename(os.path.dirname(ckpt))] = r["val_loss"]
    evals = {}
    for _, name, _ in MODELS:
        path = os.path.join(run_dir, "eval", f"{name}.summary.json")
        if name and os.path.exists(path):
            evals[name] = json.load(open(path))
    bench = json.load(open(bench_path)) if bench_path and os.path.exists(bench_path) else []
    return val, evals, bench


def main_table(val, evals, bench) -> str:
    rows = ["| model | val loss, mean of languages | line EM / ES | multi-line EM / ES | HE single-line pass@1 "
            "| HE multi-line pass@1 | SAFIM Python block / control / API pass@1 | decode ms/token | prefill 1024 ms |",
            "|---|---|---|---|---|---|---|---|---|"]
    for run, name, bench_name in MODELS:
        s = evals.get(name, {}).get("suites", {})

        def get(suite, key):
            return s.get(suite, {}).get(key)
        b = next((r for r in bench if r["model"] == bench_name and r["weights"] == "int8" and r["threads"] == 1), {})
        label = name or f"{run} (ablation, not exported)"
        rows.append(f"| {label} | {fmt(val.get(run, {}).get('mean'), 3)} "
                    f"| {fmt(get('line', 'em'))} / {fmt(get('line', 'es'))} "
                    f"| {fmt(get('multiline', 'em'))} / {fmt(get('multiline', 'es'))} "
                    f"| {fmt(get('he-single', 'pass@1'))} | {fmt(get('he-multi', 'pass@1'))} "
                    f"| {fmt(get('safim-block', 'pass@1'))} / {fmt(get('safim-control', 'pass@1'))} / "
                    f"{fmt(get('safim-api', 'pass@1'))} "
                    f"| {fmt(b.get('decodeMsPerToken'), 2)} | {fmt(b.get('prefill1024Ms'), 0)} |")
    ns = next(iter(evals.values()), {}).get("suites", {})
    counts = ", ".join(f"{k} {v['n']}" for k, v in ns.items() if "/" not in k)
    return "\n".join(rows) + f"\n\nTasks per suite: {counts}."


def language_table(val, evals) -> str:
    langs = sorted({k for v in val.values() for k in v if k != "mean"})
    runs = [(run, name) for run, name, _ in MODELS if run in val]
    rows = ["| language | " + " | ".join(f"val loss {run}" for run, _ in runs) + " | "
            + " | ".join(f"line ES {run}" for run, name in runs if name in evals) + " | "
            + " | ".join(f"multi-line ES {run}" for run, name in runs if name in evals) + " |"]
    rows.append("|---" * (1 + len(runs) + 2 * sum(name in evals for _, name in runs)) + "|")
    for lang in langs:
        cells = [fmt(val[run].get(lang), 3) for run, _ in runs]
        for suite in ("line", "multiline"):
            cells += [fmt(evals[name]["suites"].get(f"{suite}/{lang}", {}).get("es")) for _, name in runs
                      if name in evals]
        rows.append(f"| {lang} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def examples(run_dir: str, heldout: str, per_lang: int) -> str:
    summary = json.load(open(os.path.join(run_dir, "eval", "ultramem-code-s.summary.json")))
    per_lang_drawn = summary.get("per_lang")
    with gzip.open(os.path.join(run_dir, "eval", "ultramem-code-s.records.jsonl.gz"), "rt", encoding="utf-8") as f:
        records = {(r["suite"], r["task_id"]): r for r in map(json.loads, f)}
    tasks = fim_eval.heldout_tasks(heldout, per_lang_drawn, summary.get("seed", 0))
    out, shown = [], {}
    for task in tasks:    # heldout_tasks returns each language's holes in draw order
        r = records.get((task.suite, task.task_id))
        if task.suite != "multiline" or r is None or shown.get(task.lang, 0) >= per_lang:
            continue
        shown[task.lang] = shown.get(task.lang, 0) + 1
        before = "\n".join(task.prefix.split("\n")[-8:])
        after = "\n".join(task.suffix.split("\n")[:3])
        fence = FENCE.get(task.lang, "")
        package, path = task.task_id.split("/", 1)[1].rsplit("#", 1)[0].split("/", 1)
        out.append(f"**{task.lang}** ({package}: `{path}`; exact match {'yes' if r['em'] else 'no'}, "
                   f"edit similarity {100 * r['es']:.0f}). Context, then the model's completion, then the code that "
                   f"was there:\n\n```{fence}\n{before}\n```\n```{fence}\n{r['completion'].rstrip() or '(empty)'}\n```\n"
                   f"```{fence}\n{task.reference}\n```\n<sub>next lines: `{after.strip()[:120]}`</sub>\n")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="folder with val_loss.json and eval/ (unpacked results.tgz)")
    ap.add_argument("--bench", help="bench_ort.py --json output")
    ap.add_argument("--heldout", required=True, help="the held-out shards the evaluation drew from")
    ap.add_argument("--readme", default="models/README.md")
    ap.add_argument("--card", default="models/ultramem-code-s/README.md")
    ap.add_argument("--per-lang", type=int, default=1, help="examples per language")
    args = ap.parse_args()
    val, evals, bench = load(args.run, args.bench)
    replace_between(args.readme, "eval", main_table(val, evals, bench) + "\n\n" + language_table(val, evals))
    replace_between(args.card, "examples", examples(args.run, args.heldout, args.per_lang))
    print(main_table(val, evals, bench))


if __name__ == "__main__":
    main()
