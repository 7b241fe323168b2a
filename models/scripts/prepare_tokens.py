"""Corpus shards -> packed uint16 token files for training and evaluation (fast with Python `tokenizers`).

  train.bin               every train shard's documents in a seeded shuffled order, FIM-transformed (ultramem/fim.py),
                          with snippets from other files of the same package
  heldout_<lang>.bin      each language's held-out documents, plain (for validation loss per language)
  tokens.json             tokens and documents per file, and the FIM settings
Usage: python3 -m models.scripts.prepare_tokens --tokenizer tokenizer.json --shards data/corpus/shards --out data/tokens
"""
import argparse
import glob
import json
import lzma
import os
import random
from dataclasses import asdict
from types import SimpleNamespace

import numpy as np

from models.ultramem.bpe import ByteLevelBPE
from models.ultramem.fim import FimConfig, Special, fim_pieces
from models.ultramem.model_folder import special_token_ids


def read_records(paths):
    for path in paths:
        with lzma.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                yield json.loads(line)


def neighbour_picker(records, rng, most=3):
    """record index -> up to `most` random other files (path, text) of its package, for the FIM snippets."""
    by_package = {}
    for i, r in enumerate(records):
        by_package.setdefault((r.get("source"), r.get("package")), []).append(i)

    def pick(i):
        same = by_package[(records[i].get("source"), records[i].get("package"))]
        chosen = [j for j in rng.sample(same, min(len(same), most + 1)) if j != i][:most]
        return [(records[j].get("path", ""), records[j]["text"]) for j in chosen]
    return pick


class PurePythonTokenizer:
    """The slice of `tokenizers.Tokenizer` used here, over ultramem/bpe.py (same ids, tests/test_bpe.py; slow)."""

    def __init__(self, path):
        self.bpe = ByteLevelBPE.from_file(path)

    def get_vocab_size(self):
        return len(self.bpe.vocab) + len(self.bpe.added)

    def encode_batch(self, texts, add_special_tokens=False):
        return [SimpleNamespace(ids=self.bpe.encode(t)) for t in texts]


def load_tokenizer(path):
    """Hugging Face `tokenizers` where it is installed (the GPU machine), else the pure-Python reader (CI)."""
    try:
        from tokenizers import Tokenizer
    except ImportError:
        return PurePythonTokenizer(path)
    return Tokenizer.from_file(path)


def encode_examples(tok, special, examples, batch=2048):
    """examples: lists of pieces -> one flat uint16 array."""
    out = []
    for start in range(0, len(examples), batch):
        chunk = examples[start:start + batch]
        texts = [p for ex in chunk for p in ex if not isinstance(p, Special)]
        encoded = iter(tok.encode_batch(texts, add_special_tokens=False))
        for ex in chunk:
            for piece in ex:
                out.append([special[piece]] if isinstance(piece, Special) else next(encoded).ids)
    return np.concatenate([np.asarray(ids, dtype=np.uint16) for ids in out if ids])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--shards", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--fim-rate", type=float, default=FimConfig.fim_rate)
    ap.add_argument("--spm-rate", type=float, default=FimConfig.spm_rate)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    tok = load_tokenizer(args.tokenizer)
    assert tok.get_vocab_size() <= 65536, "uint16 token files need a vocabulary of at most 65536"
    special = special_token_ids(args.tokenizer)
    os.makedirs(args.out, exist_ok=True)
    cfg = FimConfig(args.fim_rate, args.spm_rate)
    summary = {"fim": {**asdict(cfg), "seed": args.seed}, "files": {}}

    rng = random.Random(args.seed)
    records = list(read_records(sorted(glob.glob(os.path.join(args.shards, "train", "*.jsonl.xz")))))
    rng.shuffle(records)
    if records:   # a folder may hold only held-out shards
        neighbours = neighbour_picker(records, rng)
        tokens = encode_examples(tok, special, [fim_pieces(r["text"], rng, cfg, neighbours(i))
                                                for i, r in enumerate(records)])
        tokens.tofile(os.path.join(args.out, "train.bin"))
        text_bytes = sum(len(r["text"].encode()) for r in records)
        summary["files"]["train.bin"] = {"documents": len(records), "tokens": int(len(tokens)),
                                         "bytes_per_token": round(text_bytes / len(tokens), 3)}

    for path in sorted(glob.glob(os.path.join(args.shards, "heldout", "*.jsonl.xz"))):
        lang = os.path.basename(path).split("-")[0]
        docs = [r["text"] for r in read_records([path])]
        tokens = encode_examples(tok, special, [[d, Special("endOfText")] for d in docs])
        name = f"heldout_{lang}.bin"
        with open(os.path.join(args.out, name), "ab") as f:  # a language may span several shards
            tokens.tofile(f)
        entry = summary["files"].setdefault(name, {"documents": 0, "tokens": 0, "bytes": 0})
        entry["documents"] += len(docs)
        entry["tokens"] += int(len(tokens))
        entry["bytes"] += sum(len(d.encode()) for d in docs)
    for entry in summary["files"].values():
        if "bytes" in entry:
            entry["bytes_per_token"] = round(entry.pop("bytes") / max(1, entry["tokens"]), 3)
    with open(os.path.join(args.out, "tokens.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
