"""Writes a model folder in the format the extension loads (models/README.md, "The model folder contract")."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from typing import Dict, Optional

from .export import export_float
from .model import Transformer
from .quantize import quantize_file

FORMAT = "ultramem-complete-model"
SPECIAL_TOKENS = {
    "fimPrefix": "<|fim_prefix|>",
    "fimSuffix": "<|fim_suffix|>",
    "fimMiddle": "<|fim_middle|>",
    "endOfText": "<|endoftext|>",
    "fileSeparator": "<|file_sep|>",
}


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def special_token_ids(tokenizer_path: str) -> Dict[str, int]:
    with open(tokenizer_path) as f:
        added = {t["content"]: t["id"] for t in json.load(f)["added_tokens"]}
    missing = [text for text in SPECIAL_TOKENS.values() if text not in added]
    assert not missing, f"{tokenizer_path} lacks special tokens {missing}"
    return {key: added[text] for key, text in SPECIAL_TOKENS.items()}


def write_manifest(out_dir: str, fields: dict, files) -> dict:
    # version 2 introduced kvCache.layout "capacity"; a concat-layout folder stays readable by version-1 workers
    version = 2 if fields.get("kvCache", {}).get("layout") == "capacity" else 1
    manifest = {"format": FORMAT, "formatVersion": version, **fields,
                "files": {name: {"bytes": os.path.getsize(os.path.join(out_dir, name)),
                                 "sha256": sha256(os.path.join(out_dir, name))} for name in files}}
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest


def write_model_folder(model: Transformer, tokenizer_path: str, out_dir: str, name: str, display_name: str,
                       description: str, keep_float: bool = False, extra_files: Optional[list] = None,
                       fim_template: str = "psm", value_bits: int = 8, kv_layout: str = "capacity") -> dict:
    """Exports model.onnx (int8) and optionally model.float.onnx, copies the tokenizer, writes config + manifest.
    fim_template: the prompt order the extension uses with this model ("psm" or "spm", models/README.md).
    value_bits: 4 stores the memory value tables in 4-bit rows (quantize.py).
    kv_layout: "capacity" (GroupQueryAttention writing a fixed-size cache in place) or "concat" (export.py)."""
    assert fim_template in ("psm", "spm"), fim_template
    cfg = model.cfg
    with open(tokenizer_path) as f:
        tok = json.load(f)
    n_tokens = len(tok["model"]["vocab"]) + len(tok["added_tokens"])
    assert n_tokens <= cfg.vocab_size, f"tokenizer has {n_tokens} tokens, the model only {cfg.vocab_size}"
    os.makedirs(out_dir, exist_ok=True)
    float_path = os.path.join(out_dir, "model.float.onnx")
    export_float(model, float_path, kv_layout=kv_layout)
    quantize_file(float_path, os.path.join(out_dir, "model.onnx"), value_bits=value_bits)
    if not keep_float:
        os.remove(float_path)
    if os.path.abspath(tokenizer_path) != os.path.abspath(os.path.join(out_dir, "tokenizer.json")):
        shutil.copyfile(tokenizer_path, os.path.join(out_dir, "tokenizer.json"))
    cfg.save(os.path.join(out_dir, "config.json"))
    ids = special_token_ids(os.path.join(out_dir, "tokenizer.json"))
    specials = {key: {"text": SPECIAL_TOKENS[key], "id": ids[key]} for key in SPECIAL_TOKENS}
    files = ["model.onnx", "tokenizer.json", "config.json"] + (["model.float.onnx"] if keep_float else [])
    fields = {
        "name": name, "displayName": display_name, "description": description,
        "architecture": cfg.architecture, "graph": "model.onnx",
        **({"floatGraph": "model.float.onnx"} if keep_float else {}),
        "tokenizer": "tokenizer.json", "config": "config.json",
        "vocabSize": cfg.vocab_size, "contextLength": cfg.context_length,
        "kvCache": {"numLayers": cfg.n_layer, "numKvHeads": cfg.n_kv_head, "headDim": cfg.head_dim,
                    "dtype": "float32", "layout": kv_layout},
        "specialTokens": specials, "fim": {"template": fim_template},
        "stopTokenIds": [ids["endOfText"], ids["fileSeparator"], ids["fimPrefix"], ids["fimSuffix"],
                         ids["fimMiddle"]],
    }
    return write_manifest(out_dir, fields, files + list(extra_files or []))
