"""Plot training-loss curves of runs (their metrics.jsonl) into one PNG.

Usage: python3 -m models.scripts.plot_losses --out curves.png RUN_DIR [RUN_DIR ...]
"""
import argparse
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("runs", nargs="+")
    args = ap.parse_args()
    fig, ax = plt.subplots(figsize=(8, 5))
    for run in args.runs:
        rows = [json.loads(line) for line in open(os.path.join(run, "metrics.jsonl"))]
        ax.plot([r["tokens"] / 1e6 for r in rows], [r["loss"] for r in rows], label=os.path.basename(run.rstrip("/")))
    ax.set_xlabel("training tokens (millions)")
    ax.set_ylabel("training loss (nats/token)")
    ax.set_ylim(top=4.0)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)


if __name__ == "__main__":
    main()
