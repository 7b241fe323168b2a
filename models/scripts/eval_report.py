"""Writes the evaluation tables into models/README.md and the completion examples into the shipped model's card.

Reads what GPU runs brought back (gpu/gpu_run.sh): validation losses (eval_loss.py), FIM summaries and records
(evaluate.py), and the ORT CPU benchmark rows (bench_ort.py --json). Several --run folders give one table, the
first run's models first (the shipped model's run: its records give the examples), e.g. a continued model's run and
the run whose twins it was compared with. Replaces the text between
`<!-- eval:begin -->` and `<!-- eval:end -->` in the README, and between `<!-- examples:begin -->` and
`<!-- examples:end -->` in the card.

Examples are chosen by rule, not by hand: for every language, the first --per-lang held-out line hole and multi-line
hole in the order the seeded task builder drew them (fim_eval.heldout_tasks, the same draw evaluate.py made),
whatever their score; a completion is shown up to the extension's default maxLines.

  python3 -m models.scripts.eval_report --run models/logs/RUN [--run models/logs/EARLIER_RUN] \
      --bench models/logs/RUN/bench_ort.json --heldout data/corpus/shards/heldout \
      --readme models/README.md --card models/ultramem-code-s/README.md
"""
import argparse
import glob
import gzip
import json
import os
import re

from models.ultramem import fim_eval

# (run name in gpu_run.sh, model folder name, bench_ort.py model name); `grown` is the sixth run's (grow.py), a shape
# bench_ort.py has no row for
MODELS = (("ultramem", "ultramem-code-s", "ultramem"), ("grown", "ultramem-code-s", None),
          ("dense", "dense-twin-s", "dense"), ("moe", "moe-twin-s", "moe"), ("pkm", None, None))
MAX_LINES = 8   # the extension shows at most this many lines (setting maxLines)
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


def run_label(run_dir: str) -> str:
    """models/logs/2026-11-29-fifth-run -> "fifth run"."""
    return re.sub(r"^\d{4}-\d{2}-\d{2}-", "", os.path.basename(os.path.normpath(run_dir))).replace("-", " ")


def load(run_dir: str):
    """Validation losses by run; FIM summaries by model name and prompt order ("name" for the manifest's order at
    evaluation time, "name-spm"), merged over the run's eval* folders (benchmarks and held-out were separate calls).
    A continued run's starting point (gpu_run.sh init, measured as "init") is left out: it is an earlier run's model."""
    val = {}
    for ckpt, r in json.load(open(os.path.join(run_dir, "val_loss.json"))).items():
        if os.path.basename(os.path.dirname(ckpt)) != "init":
            val[os.path.basename(os.path.dirname(ckpt))] = r["val_loss"]
    evals = {}
    for path in sorted(glob.glob(os.path.join(run_dir, "eval*", "*.summary.json"))):
        summary = json.load(open(path))
        name = os.path.basename(path)[:-len(".summary.json")]
        merged = evals.setdefault(name, {"suites": {}, "sources": [], "order": prompt_order(run_dir, summary)})
        merged["suites"].update(summary["suites"])
        merged["sources"].append(os.path.relpath(path, run_dir))
    return val, evals


def prompt_order(run_dir: str, summary: dict) -> str:
    """"psm" or "spm" (the --template given then, else the exported manifest's), then how the completions were made:
    ", extension pipeline" by the extension's own pipeline and worker (dist/cli.js, evaluate.py's only path since
    2026-12-06), else ", retired harness": evaluate.py's own greedy decoders and prompt builder, removed 2026-12-06
    (", healed" where they healed the last prefix token as the extension does, from 2026-11-29 on)."""
    order = summary.get("template", "manifest")
    if order not in ("psm", "spm"):
        manifests = [os.path.join(run_dir, "folders", r, "manifest.json") for r, name, _ in MODELS
                     if name and summary["model"].startswith(name)]
        manifest = next((m for m in manifests if os.path.exists(m)), None)
        order = json.load(open(manifest)).get("fim", {}).get("template", "psm") if manifest else "psm"
    if summary.get("decoding") == "extension":
        return order + ", extension pipeline"
    return order + (", healed" if summary.get("token_healing") else "") + ", retired harness"


def evaluations_of(name: str, evals: dict) -> dict:
    """Prompt order -> the evaluation of model `name` in that order with the most tasks."""
    best = {}
    for key, e in sorted(evals.items()):
        if key == name or key.startswith(name + "-"):
            n = sum(v["n"] for k, v in e["suites"].items() if "/" not in k)
            if e["order"] not in best or n > best[e["order"]][0]:
                best[e["order"]] = (n, key)
    return {order: key for order, (n, key) in sorted(best.items())}


def main_table(runs, bench) -> str:
    """runs: [(label, val, evals)] -> one row per run, model and prompt order."""
    rows = ["| run | model | prompt order | val loss, mean of languages | line EM / ES | multi-line EM / ES "
            "| HE single-line pass@1 | HE multi-line pass@1 | SAFIM Python block / control / API pass@1 "
            "| decode ms/token | prefill 1024 ms |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for label, val, evals in runs:
        rows_of = [((run, name, bench_name), order, key) for run, name, bench_name in MODELS if run in val
                   for order, key in (evaluations_of(name, evals).items() if name else [("–", None)])]
        for (run, name, bench_name), order, key in rows_of:
            s = evals.get(key, {}).get("suites", {})

            def get(suite, key):
                return s.get(suite, {}).get(key)
            b = next((r for r in bench if r["model"] == bench_name and r["weights"] == "int8" and r["threads"] == 1),
                     {})
            model = name or f"{run} (ablation, not exported)"
            rows.append(f"| {label} | {model} | {order} | {fmt(val.get(run, {}).get('mean'), 3)} "
                        f"| {fmt(get('line', 'em'))} / {fmt(get('line', 'es'))} "
                        f"| {fmt(get('multiline', 'em'))} / {fmt(get('multiline', 'es'))} "
                        f"| {fmt(get('he-single', 'pass@1'))} | {fmt(get('he-multi', 'pass@1'))} "
                        f"| {fmt(get('safim-block', 'pass@1'))} / {fmt(get('safim-control', 'pass@1'))} / "
                        f"{fmt(get('safim-api', 'pass@1'))} "
                        f"| {fmt(b.get('decodeMsPerToken'), 2)} | {fmt(b.get('prefill1024Ms'), 0)} |")
    counts = "; ".join(f"{label}, {name}: " + ", ".join(f"{k} {v['n']}" for k, v in e["suites"].items() if "/" not in k)
                       for label, _, evals in runs for name, e in sorted(evals.items())
                       if name.startswith("ultramem-code-s"))
    return "\n".join(rows) + f"\n\nTasks per suite ({counts})."


def language_table(runs) -> str:
    """Per language: validation loss of every run's models, and held-out line / multi-line edit similarity of the
    evaluations decoded as the extension decodes (its pipeline, or the retired harness with healing)."""
    langs = sorted({k for _, val, _ in runs for v in val.values() for k in v if k != "mean"})
    losses = [(f"{run} ({label})", val[run]) for label, val, _ in runs for run, _, _ in MODELS if run in val]
    fim = [(f"{run} ({label}, {order})", evals[key]) for label, val, evals in runs
           for run, name, _ in MODELS if run in val and name
           for order, key in evaluations_of(name, evals).items()
           if order in ("spm, healed, retired harness", "spm, extension pipeline")
           and any(k.startswith("line/") for k in evals[key]["suites"])]
    rows = ["| language | " + " | ".join(f"val loss {label}" for label, _ in losses) + " | "
            + " | ".join(f"line ES {label}" for label, _ in fim) + " | "
            + " | ".join(f"multi-line ES {label}" for label, _ in fim) + " |",
            "|---" * (1 + len(losses) + 2 * len(fim)) + "|"]
    for lang in langs:
        cells = [fmt(loss.get(lang), 3) for _, loss in losses]
        for suite in ("line", "multiline"):
            cells += [fmt(e["suites"].get(f"{suite}/{lang}", {}).get("es")) for _, e in fim]
        rows.append(f"| {lang} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def examples(run_dir: str, heldout: str, per_lang: int, name: str) -> str:
    """Held-out multi-line holes of `name`'s evaluation (an evaluate.py output name, e.g. ultramem-code-s-spm)."""
    summaries = {p: json.load(open(p)) for p in sorted(glob.glob(os.path.join(run_dir, "eval*", f"{name}.summary.json")))}
    path, summary = next((p, s) for p, s in summaries.items() if "line" in s["suites"])
    per_lang_drawn = summary.get("per_lang")
    with gzip.open(path.replace(".summary.json", ".records.jsonl.gz"), "rt", encoding="utf-8") as f:
        records = {(r["suite"], r["task_id"]): r for r in map(json.loads, f)}
    tasks = fim_eval.heldout_tasks(heldout, per_lang_drawn, summary.get("seed", 0))
    out, shown = [], {}
    for task in tasks:    # heldout_tasks returns each language's holes in draw order: line holes, then multi-line
        r = records.get((task.suite, task.task_id))
        if r is None or shown.get((task.lang, task.suite), 0) >= per_lang:
            continue
        shown[(task.lang, task.suite)] = shown.get((task.lang, task.suite), 0) + 1
        fence = FENCE.get(task.lang, "")   # fenced with four backticks: Markdown files hold three
        package, path = task.task_id.split("/", 1)[1].rsplit("#", 1)[0].split("/", 1)
        before = "\n".join(task.prefix.split("\n")[-6:])
        lines = r["completion"].rstrip().split("\n")
        shown_completion = "\n".join(lines[:MAX_LINES]) + (f"\n… ({len(lines) - MAX_LINES} more lines)"
                                                            if len(lines) > MAX_LINES else "")
        out.append(f"**{task.lang}, {'one line' if task.suite == 'line' else 'several lines'}** ({package}: `{path}`; "
                   f"exact match {'yes' if r['em'] else 'no'}, edit similarity {100 * r['es']:.0f}). The code before "
                   f"the cursor, the model's completion, the code that was there:\n\n````{fence}\n{before}\n````\n"
                   f"````{fence}\n{shown_completion or '(nothing)'}\n````\n````{fence}\n{task.reference}\n````\n")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, action="append",
                    help="folder with val_loss.json and eval*/ (unpacked results.tgz); repeat for earlier runs")
    ap.add_argument("--bench", help="bench_ort.py --json output")
    ap.add_argument("--heldout", required=True, help="the held-out shards the evaluation drew from")
    ap.add_argument("--readme", default="models/README.md")
    ap.add_argument("--card", default="models/ultramem-code-s/README.md")
    ap.add_argument("--per-lang", type=int, default=1, help="examples per language")
    ap.add_argument("--examples-from", default="ultramem-code-s-extension",
                    help="the evaluation whose held-out records give the examples (what the extension shows)")
    args = ap.parse_args()
    runs = [(run_label(run), *load(run)) for run in args.run]
    bench = json.load(open(args.bench)) if args.bench and os.path.exists(args.bench) else []
    replace_between(args.readme, "eval", main_table(runs, bench) + "\n\n" + language_table(runs))
    replace_between(args.card, "examples", examples(args.run[0], args.heldout, args.per_lang, args.examples_from))
    print(main_table(runs, bench))


if __name__ == "__main__":
    main()
