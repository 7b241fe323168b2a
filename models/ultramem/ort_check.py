"""Forward passes of an exported graph for parity checks (logits, argmax, loss; decoding is the worker's): in
onnxruntime-node (scripts/ort_session.mjs), the runtime the extension uses and the one `npm ci` brings (CI,
developer machines); where node is absent but Python's onnxruntime is installed (the GPU machine), in that instead,
with the same request semantics."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from typing import List

import numpy as np

SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts")


def run_graph(model_path: str, calls: List[dict]) -> List[np.ndarray]:
    """calls: [{"ids": [...], "numLogits": n, "keep": k?}] run in order on one cache (see ort_session.mjs).
    Returns the logits of each call, arrays (1, n, V)."""
    if shutil.which("node") is None:
        return _run_graph_python(model_path, calls)
    out = _node_request({"model": os.path.abspath(model_path), "calls": calls})
    return [np.asarray(c["logits"], dtype=np.float32).reshape(c["dims"]) for c in out["calls"]]


def argmax_along(model_path: str, prompt: List[int], tokens: List[int]) -> List[int]:
    """The graph's argmax after the prompt and after each of `tokens` but the last, in one forward pass that is given
    the tokens (teacher forcing): it equals `tokens` exactly when greedy decoding would produce them, without a
    decoding loop here (decoding is the worker's, src/worker/engine.ts)."""
    [logits] = run_graph(model_path, [{"ids": prompt + tokens[:-1], "numLogits": len(tokens)}])
    return logits[0].argmax(-1).tolist()


def score_windows(model_path: str, windows: List[List[int]], threads: int = 2):
    """Teacher-forced scoring in onnxruntime-node: per window of token ids, the NLL of each next token and the
    graph's argmax at each position (arrays of len(window) - 1)."""
    calls = [{"ids": w[:-1], "numLogits": len(w) - 1, "targets": w[1:], "keep": 0} for w in windows]
    out = _node_request({"model": os.path.abspath(model_path), "calls": calls, "threads": threads})
    return [(np.asarray(c["nll"]), np.asarray(c["argmax"])) for c in out["calls"]]


def _node_request(request: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        req, resp = os.path.join(tmp, "request.json"), os.path.join(tmp, "response.json")
        with open(req, "w") as f:
            json.dump(request, f)
        proc = subprocess.run(["node", os.path.join(SCRIPTS, "ort_session.mjs"), req, resp],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"onnxruntime-node failed ({proc.returncode}): {proc.stderr[-3000:]}")
        with open(resp) as f:
            return json.load(f)


def tokenize(tokenizer_path: str, texts: List[str]) -> List[List[int]]:
    """Token ids from the npm `tokenizers` binding (the extension's tokenizer)."""
    proc = subprocess.run(["node", os.path.join(SCRIPTS, "tokenize.mjs"), tokenizer_path],
                          input=json.dumps(texts), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"tokenize.mjs failed: {proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


def _run_graph_python(model_path: str, calls: List[dict]):
    import onnxruntime as ort
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    past_names = [i.name for i in session.get_inputs() if i.name.startswith("past_")]
    shape = next(i.shape for i in session.get_inputs() if i.name == "past_key_0")
    empty = {name: np.zeros((1, shape[1], 0, shape[3]), np.float32) for name in past_names}

    def step(cache, ids, num_logits=1):
        outs = session.run(None, {"input_ids": np.array([ids], np.int64),
                                  "num_logits": np.array([num_logits], np.int64), **cache})
        named = dict(zip([o.name for o in session.get_outputs()], outs))
        return named["logits"], {n: named[n.replace("past_", "present_")] for n in past_names}

    logits, cache = [], dict(empty)
    for call in calls:
        if "keep" in call:
            cache = {n: t[:, :, :call["keep"]] for n, t in cache.items()}
        out, cache = step(cache, call["ids"], call.get("numLogits", 1))
        logits.append(out)
    return logits


def cpu_flags() -> str:
    """The CPU's flags that decide onnxruntime's kernels, printed with every benchmark (CPUs differ between runs)."""
    with open("/proc/cpuinfo") as f:
        flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    wanted = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8")
    return " ".join(flag for flag in wanted if flag in flags)
