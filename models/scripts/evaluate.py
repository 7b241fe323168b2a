"""FIM evaluation of exported model folders: human-eval-infilling, SAFIM Python and held-out infilling per language.

Greedy generation through the folder's ONNX graph in onnxruntime on the CPU (the shipped int8 artifact, one thread
per worker process, many workers), prompts built like the extension's (the manifest's PSM or SPM order, prefix and
suffix cut to a token budget, token healing of the prefix's last token as in src/worker/engine.ts), then scoring by ultramem/fim_eval.py. Python `onnxruntime` and `tokenizers` run it where installed (the GPU machine), else onnxruntime-node and the npm
`tokenizers` through scripts/fim_server.mjs (this machine, CI).

  python3 -m models.scripts.evaluate --model models/ultramem-code-s --heldout data/corpus/shards/heldout \
      --per-lang 100 --workers 60 --out data/eval
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

import numpy as np

from models.ultramem import fim_eval
from models.ultramem.bpe import ByteLevelBPE
from models.ultramem.fim_eval import FimTask

EVALS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "evals")


class PythonOrt:
    """The graph in Python's onnxruntime (KV cache as numpy arrays) and Python's `tokenizers` (the GPU machine)."""

    def __init__(self, folder: str, manifest: dict):
        import onnxruntime as ort
        from tokenizers import Tokenizer
        self.tok = Tokenizer.from_file(os.path.join(folder, manifest["tokenizer"]))
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(os.path.join(folder, manifest["graph"]), opts,
                                            providers=["CPUExecutionProvider"])
        inputs = {i.name: i for i in self.session.get_inputs()}
        shape = inputs["past_key_0"].shape
        self.past_names = [n for n in inputs if n.startswith("past_")]
        self.empty = {n: np.zeros((1, shape[1], 0, shape[3]), np.float32) for n in self.past_names}
        self.outputs = [o.name for o in self.session.get_outputs()]
        self.cache = None

    def encode(self, text):
        return self.tok.encode(text, add_special_tokens=False).ids

    def _step(self, cache, ids, allowed):
        outs = self.session.run(None, {"input_ids": np.array([ids], np.int64),
                                       "num_logits": np.array([1], np.int64), **cache})
        named = dict(zip(self.outputs, outs))
        self.cache = {n: named[n.replace("past_", "present_")] for n in self.past_names}
        logits = named["logits"][0, -1]
        if allowed is None:
            return int(logits.argmax())
        return int(allowed[logits[allowed].argmax()])

    def start(self, ids, allowed=None):
        return self._step(dict(self.empty), ids, allowed)

    def next(self, token, allowed=None):
        return self._step(self.cache, [token], allowed)


class NodeOrt:
    """The graph in onnxruntime-node with the npm `tokenizers` (scripts/fim_server.mjs), where Python lacks them."""

    def __init__(self, folder: str, manifest: dict):
        import subprocess
        server = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fim_server.mjs")
        self.proc = subprocess.Popen(["node", server, folder], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)

    def _ask(self, **req):
        self.proc.stdin.write(json.dumps(req) + "\n")
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"fim_server.mjs exited ({self.proc.wait()})")
        return json.loads(line)

    def encode(self, text):
        return self._ask(op="encode", text=text)["ids"]

    def start(self, ids, allowed=None):
        return self._ask(op="start", ids=ids, allowed=None if allowed is None else allowed.tolist())["token"]

    def next(self, token, allowed=None):
        return self._ask(op="next", token=token, allowed=None if allowed is None else allowed.tolist())["token"]


class ExtensionPipeline:
    """What a user is shown: the extension's own completion pipeline (prompt windows, token healing, stop rules,
    post-filters, at most 8 lines) through its CLI, `dist/cli.js --jsonl` (built by `npm run build`)."""

    CLI = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "dist", "cli.js")
    LANGUAGE_IDS = {"shell": "shellscript"}   # corpus language -> VS Code language id, where they differ

    def __init__(self, folder: str, prompt_tokens: int):
        if not os.path.exists(self.CLI):
            raise SystemExit(f"{self.CLI} is missing: run `npm run build` first")
        self.proc = subprocess.Popen(["node", self.CLI, "--model", folder, "--jsonl", "--max-prompt-tokens",
                                      str(prompt_tokens)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     bufsize=1)

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


def open_backend(name: str, folder: str, manifest: dict):
    if name == "auto":
        try:
            import onnxruntime  # noqa: F401
            import tokenizers  # noqa: F401
            name = "python"
        except ImportError:
            name = "node"
    return (PythonOrt if name == "python" else NodeOrt)(folder, manifest)


class FimGenerator:
    """Greedy FIM decoding of one model folder in one process, with the extension's prompt layout and healing."""

    def __init__(self, folder: str, backend: str, prompt_tokens: int, max_new: dict, template: str = ""):
        manifest = json.load(open(os.path.join(folder, "manifest.json")))
        self.template = template or manifest["fim"]["template"]
        self.model = open_backend(backend, folder, manifest)
        self.special = {k: v["id"] for k, v in manifest["specialTokens"].items()}
        self.stop = set(manifest["stopTokenIds"])
        # as the extension does: the prompt and the tokens it may generate fit the model's context
        self.prompt_tokens = min(prompt_tokens, manifest["contextLength"] - max(max_new.values()))
        self.max_new = max_new
        self.token_bytes = ByteLevelBPE.from_file(os.path.join(folder, manifest["tokenizer"])).token_bytes()
        self._compatible = {}

    def prompt(self, task: FimTask):
        """FIM prompt ids within the token budget (the suffix gets at most a quarter, the prefix the rest, its end),
        and the bytes of the prefix's last token, taken off to be healed:
        psm: fimPrefix prefix fimSuffix suffix fimMiddle; spm: fimPrefix fimSuffix suffix fimMiddle prefix
        (the two orders the model was trained on, ultramem/fim.py)."""
        pre = self.model.encode(task.prefix[-fim_eval.PREFIX_CHARS:])
        suf = self.model.encode(task.suffix[:fim_eval.SUFFIX_CHARS])
        n_suf = min(len(suf), self.prompt_tokens // 4)
        n_pre = min(len(pre), self.prompt_tokens - 3 - n_suf)
        s, pre, suf = self.special, pre[len(pre) - n_pre:], suf[:n_suf]
        heal = b""
        if pre and pre[-1] not in s.values() and is_utf8(self.token_bytes[pre[-1]]):
            heal, pre = self.token_bytes[pre[-1]], pre[:-1]
        if self.template == "spm":
            return [s["fimPrefix"], s["fimSuffix"], *suf, s["fimMiddle"], *pre], heal
        return [s["fimPrefix"], *pre, s["fimSuffix"], *suf, s["fimMiddle"]], heal

    def compatible(self, owed: bytes):
        """Ids whose bytes start with, or are a start of, the bytes still owed to healing (None: any id)."""
        if not owed:
            return None
        if owed not in self._compatible:
            specials = set(self.special.values())
            self._compatible[owed] = np.array([i for i, b in enumerate(self.token_bytes) if b and i not in specials
                                               and (b.startswith(owed) or owed.startswith(b))], np.int64)
        return self._compatible[owed]

    def generate(self, task: FimTask):
        ids, heal = self.prompt(task)
        t0 = time.perf_counter()
        token = self.model.start(ids, self.compatible(heal))
        t_prefill = time.perf_counter() - t0
        out, owed, new_tokens = bytearray(), heal, 0
        for _ in range(self.max_new[task.mode]):
            if token in self.stop:
                break
            b = self.token_bytes[token]
            out += b
            new_tokens += 1
            owed = owed[len(b):] if len(b) < len(owed) else b""
            if task.mode == "line" and b"\n" in out[len(heal):]:
                break
            token = self.model.next(token, self.compatible(owed))
        return bytes(out[len(heal):]).decode("utf-8", "replace"), {
            "prompt_tokens": len(ids), "new_tokens": new_tokens, "healed": heal.decode(),
            "prefill_ms": round(1e3 * t_prefill, 1), "total_ms": round(1e3 * (time.perf_counter() - t0), 1)}


def is_utf8(b: bytes) -> bool:
    """False for a token that ends inside a multi-byte character (the worker does not heal those)."""
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


_GEN = None
_DEADLINE = None


def _init(folder, backend, prompt_tokens, max_new, template, deadline):
    global _GEN, _DEADLINE
    _GEN = ExtensionPipeline(folder, prompt_tokens) if backend == "extension" else \
        FimGenerator(folder, backend, prompt_tokens, max_new, template)
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
    ap.add_argument("--prompt-tokens", type=int, default=1024, help="prompt budget (the extension's default)")
    ap.add_argument("--template", choices=["", "psm", "spm"], default="",
                    help="FIM prompt order (default: the manifest's fim.template)")
    ap.add_argument("--max-new-line", type=int, default=48)
    ap.add_argument("--max-new-block", type=int, default=160)
    ap.add_argument("--backend", choices=["auto", "python", "node", "extension"], default="auto",
                    help="onnxruntime + tokenizers from Python, or from node (scripts/fim_server.mjs); auto: Python's "
                         "if installed; extension: the extension's whole pipeline through dist/cli.js (filters, "
                         "stop rules, 8 lines at most; the manifest's prompt order)")
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
    max_new = {"line": args.max_new_line, "block": args.max_new_block}
    for folder in args.model:
        name = json.load(open(os.path.join(folder, "manifest.json")))["name"] + args.name_suffix
        t0 = time.time()
        deadline = t0 + args.deadline if args.deadline else None
        ctx = mp.get_context("fork")
        with ctx.Pool(args.workers, initializer=_init, initargs=(folder, args.backend, args.prompt_tokens, max_new,
                                                                 args.template, deadline)) as pool:
            records = [r for r in pool.imap_unordered(_run, tasks, chunksize=4) if r is not None]
        summary = {"model": name, "folder": os.path.abspath(folder), "wall_s": round(time.time() - t0, 1),
                   "tasks_total": len(tasks), "tasks_done": len(records), "workers": args.workers,
                   "prompt_tokens": args.prompt_tokens, "max_new": max_new, "per_lang": args.per_lang, "template": args.template or "manifest",
                   "token_healing": True, "decoding": "extension" if args.backend == "extension" else "greedy",
                   "limit": args.limit, "seed": args.seed, "suites": fim_eval.summarize(records)}
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
