"""The shipped model in the two KV-cache layouts of the graph contract, timed in interleaved rounds on this CPU.

  concat    past [1, Hkv, P, D] in, present [1, Hkv, P + T, D] out: every call allocates the whole cache again and
            onnxruntime-node copies it into a new JavaScript buffer (contract version 1, what the worker runs today)
  capacity  GroupQueryAttention over capacity buffers written in place (ultramem/gqa.py)
Both int8, exported from the same weights (the folder's graph read back with onnx_import). Prints the CPU flags,
the load and a table; writes the rows as JSON with --json.
Usage: python3 -m models.scripts.bench_kv_layout [--model models/ultramem-code-s] [--rounds 3] [--json FILE]
"""
import argparse
import json
import os
import subprocess
import tempfile

from models.ultramem.export import export_float
from models.ultramem.onnx_import import load_model_folder
from models.ultramem.ort_check import cpu_flags
from models.ultramem.quantize import quantize_file

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
FIELDS = ["prefill512Ms", "prefill2048Ms", "decodeMsPerToken", "decode1536MsPerToken", "keystroke512Ms",
          "keystroke1536Ms"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="models/ultramem-code-s")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", default="1")
    ap.add_argument("--json")
    args = ap.parse_args()
    model = load_model_folder(args.model).eval()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        graphs = {}
        for layout in ("concat", "capacity"):
            export_float(model, os.path.join(tmp, f"{layout}.float.onnx"), kv_layout=layout)
            graphs[layout] = os.path.join(tmp, f"{layout}.onnx")
            quantize_file(os.path.join(tmp, f"{layout}.float.onnx"), graphs[layout])
        for rnd in range(args.rounds):
            for threads in args.threads.split(","):
                for layout, path in graphs.items():
                    out = subprocess.run(["node", os.path.join(SCRIPTS, "bench_ort.mjs"), path, threads,
                                          str(model.cfg.vocab_size)], capture_output=True, text=True, check=True)
                    r = json.loads(out.stdout.strip().splitlines()[-1])
                    rows.append({"layout": layout, "round": rnd, "threads": int(threads),
                                 **{k: round(r[k], 2) for k in FIELDS}, "load": os.getloadavg()[0]})
                    print(json.dumps(rows[-1]), flush=True)
    report = {"cpu": cpu_flags(), "model": args.model, "rows": rows}
    print(f"\nCPU flags: {report['cpu']}\n")
    print("| layout | threads | " + " | ".join(FIELDS) + " |")
    print("|---|---|" + "---|" * len(FIELDS))
    for layout in graphs:
        for threads in args.threads.split(","):
            mine = [r for r in rows if r["layout"] == layout and r["threads"] == int(threads)]
            best = {k: min(r[k] for r in mine) for k in FIELDS}  # the least disturbed of the interleaved rounds
            print(f"| {layout} | {threads} | " + " | ".join(f"{best[k]:.2f}" for k in FIELDS) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
