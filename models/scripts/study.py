"""Run a scaling study described as data (models/study/scaling.json): train, evaluate, summarize, report.

  python3 -m models.scripts.study run --plan models/study/scaling.json --groups ablation --tokens 40e6 \
      --data tokens/part*/train.bin --heldout tokens/heldout --out /tmp/um/study --gpus 0 --per-gpu 3
  python3 -m models.scripts.study report --plan models/study/scaling.json --out /tmp/um/study [--plot study.png]
  python3 -m models.scripts.study budget --plan models/study/scaling.json --groups backbone,memory --out budget.json
`run` trains what is not done yet, evaluates and writes study.json; `report` prints the Markdown table; `budget`
times each shape on this CPU with random weights (no GPU), the CPU side of choosing the default.
"""
import argparse
import json
import os
import tempfile

from models.ultramem import study
from models.ultramem.ort_check import cpu_flags


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    for name in ("run", "report", "budget"):
        p = sub.add_parser(name)
        p.add_argument("--plan", required=True)
        p.add_argument("--out", required=True, help="the study's folder (one folder per run, study.json); for "
                                                    "budget, the JSON file to write")
        p.add_argument("--groups", help="comma-separated groups of the plan (default: all)")
    run = sub.choices["run"]
    run.add_argument("--tokens", type=float, required=True, help="training tokens of every run")
    run.add_argument("--data", nargs="+", required=True)
    run.add_argument("--heldout", required=True, help="folder of heldout_<lang>.bin")
    run.add_argument("--gpus", help="comma-separated GPU ids (default: none, CPU)")
    run.add_argument("--per-gpu", type=int, default=1, help="runs trained at once on each GPU")
    run.add_argument("--max-seconds", type=float, default=0, help="cap on each run's training time")
    run.add_argument("--max-windows", type=int, default=64, help="held-out windows per language")
    sub.choices["report"].add_argument("--plot", help="write the loss plot here (needs matplotlib)")
    sub.choices["budget"].add_argument("--rounds", type=int, default=2)
    sub.choices["budget"].add_argument("--value-bits", type=int, choices=[4, 8], default=8)
    args = ap.parse_args()
    plan = json.load(open(args.plan))
    runs = study.resolve(plan, args.groups.split(",") if args.groups else None)
    if args.command == "budget":
        with tempfile.TemporaryDirectory() as work:
            rows = study.cpu_budget(runs, work, args.rounds, value_bits=args.value_bits)
        print(study.budget_report(rows, cpu_flags()))
        with open(args.out, "w") as f:
            json.dump({"cpu": cpu_flags(), "load": os.getloadavg(), "rows": rows}, f, indent=1)
        return
    if args.command == "run":
        os.makedirs(args.out, exist_ok=True)
        study.launch(runs, args.data, args.out, int(args.tokens), args.per_gpu,
                     args.gpus.split(",") if args.gpus else None, args.max_seconds)
        study.evaluate(runs, args.out, args.heldout, args.max_windows)
    records = study.summarize(runs, args.out)
    with open(os.path.join(args.out, "study.json"), "w") as f:
        json.dump(records, f, indent=1)
    print(study.report(records))
    if args.command == "report" and args.plot:
        study.plot(records, args.plot)


if __name__ == "__main__":
    main()
