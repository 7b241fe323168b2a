"""Samples of the train shards small enough to travel to the GPU machine in one call (the working tree that
travels is limited to 64 MiB).

    /usr/bin/python3 -m models.corpus.sample --mb 250            # -> data/corpus/tokenizer-sample.jsonl.xz
    /usr/bin/python3 -m models.corpus.sample --langs css,html,shell,yaml --dest data/weak/train/weak-00000.jsonl.xz

A language-balanced sample for tokenizer training: each language gets a share of the text budget proportional
to its share of the corpus, raised to a floor (so C# and CSS are not starved) and capped (so one language cannot
dominate the merges). Documents are taken in a stable pseudo-random order; held-out packages are never read.

With --langs, every train document of those languages, in the shards' format: a run that stages this shard
besides the ones that hold them reads these languages more often (the corpus has about 80 MB of CSS, HTML, shell
and YAML in 4.9 GB; repeating a few epochs of scarce data costs little, Muennighoff et al. 2023).
"""
import argparse
import gzip
import hashlib
import json
import lzma
import os

from .build import DEFAULT_OUT

FLOOR = 0.02     # every language present gets at least 2% of the budget (if it has that much text)
CAP = 0.25       # and at most 25%


def shares(bytes_by_lang, floor=FLOOR, cap=CAP):
    total = sum(bytes_by_lang.values())
    if not total:
        return {}
    s = {l: min(cap, max(floor, b / total)) for l, b in bytes_by_lang.items()}
    norm = sum(s.values())
    return {l: v / norm for l, v in s.items()}


def _open(path):
    return lzma.open(path, "rt", encoding="utf-8") if path.endswith(".xz") else gzip.open(path, "rt",
                                                                                           encoding="utf-8")


def sample(out_dir, budget_bytes, dest, langs=()):
    """Writes the sample to dest; returns its text bytes per language. langs: every document of these instead."""
    manifest = json.load(open(os.path.join(out_dir, "manifest.json")))
    train = manifest["splits"].get("train", {})
    if langs:
        prob = {l: 1.0 for l in langs}
    else:
        want = {l: s * budget_bytes for l, s in shares({l: v["bytes"] for l, v in train.items()}).items()}
        # keep a document with probability want/available, decided by a hash of its id (stable across runs)
        prob = {l: min(1.0, want[l] / train[l]["bytes"]) for l in want}
    got = {}
    shards = sorted(s["file"] for s in manifest["shards"] if s["file"].startswith("train/"))
    tmp = dest + ".tmp"
    with lzma.open(tmp, "wt", encoding="utf-8", preset=6) as out:
        for s in shards:
            with _open(os.path.join(out_dir, "shards", s)) as fh:
                for line in fh:
                    d = json.loads(line)
                    key = f"{d['source']}:{d['package']}:{d['path']}".encode("utf-8")
                    u = int.from_bytes(hashlib.sha256(key).digest()[:8], "big") / 2.0**64
                    if u >= prob.get(d["lang"], 0.0):
                        continue
                    out.write(json.dumps(d if langs else {"lang": d["lang"], "text": d["text"]},
                                         ensure_ascii=False) + "\n")
                    got[d["lang"]] = got.get(d["lang"], 0) + len(d["text"].encode("utf-8"))
    os.replace(tmp, dest)
    return got


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT, help="the corpus folder (with manifest.json and shards/)")
    ap.add_argument("--mb", type=float, default=250.0, help="text budget in MB (before compression)")
    ap.add_argument("--langs", default="", help="comma-separated: every train document of these languages")
    ap.add_argument("--dest", default=None)
    args = ap.parse_args(argv)
    dest = args.dest or os.path.join(args.out, "tokenizer-sample.jsonl.xz")
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    got = sample(args.out, args.mb * 1e6, dest, [l for l in args.langs.split(",") if l])
    print(json.dumps({"dest": dest, "compressed_bytes": os.path.getsize(dest),
                      "text_bytes_by_lang": dict(sorted(got.items(), key=lambda kv: -kv[1]))}, indent=1))


if __name__ == "__main__":
    main()
