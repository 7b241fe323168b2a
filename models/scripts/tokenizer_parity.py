"""Python-side ids for the tokenizer parity test: sample files of every language, encoded by Python `tokenizers`.

Picks the first --per-lang files (by package and path) of each held-out shard series, cuts each to at most
--chars characters at a line end, checks Python's round trip (decode(encode(text)) == text), and writes the texts
with their ids and the tokenizer's sha256 to --out. models/tests/tokenizer_parity.test.mjs then checks that the
npm `tokenizers` binding, the extension's tokenizer, gives the same ids and round-trips too.

  python3 -m models.scripts.tokenizer_parity --tokenizer models/ultramem-code-s/tokenizer.json \
      --heldout data/corpus/shards/heldout --out models/tests/data/tokenizer_parity.json
"""
import argparse
import glob
import hashlib
import json
import lzma
import os


def samples(heldout_dir: str, per_lang: int, chars: int):
    by_lang = {}
    for path in sorted(glob.glob(os.path.join(heldout_dir, "*.jsonl.xz"))):
        with lzma.open(path, "rt", encoding="utf-8") as f:
            by_lang.setdefault(os.path.basename(path).rsplit("-", 1)[0], []).extend(json.loads(line) for line in f)
    for lang, docs in sorted(by_lang.items()):
        for d in sorted(docs, key=lambda d: (d["package"], d["path"]))[:per_lang]:
            text = d["text"] if len(d["text"]) <= chars else d["text"][:d["text"].rfind("\n", 0, chars) + 1]
            yield {"lang": lang, "package": d["package"], "path": d["path"], "license": d.get("license"),
                   "text": text}


def main():
    import tokenizers
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--heldout", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--per-lang", type=int, default=2)
    ap.add_argument("--chars", type=int, default=1500)
    args = ap.parse_args()
    tok = tokenizers.Tokenizer.from_file(args.tokenizer)
    rows = []
    for s in samples(args.heldout, args.per_lang, args.chars):
        ids = tok.encode(s["text"], add_special_tokens=False).ids
        assert tok.decode(ids, skip_special_tokens=False) == s["text"], f"round trip failed: {s['path']}"
        rows.append({**s, "ids": ids})
    out = {"tokenizer_sha256": hashlib.sha256(open(args.tokenizer, "rb").read()).hexdigest(),
           "python_tokenizers": tokenizers.__version__, "samples": rows}
    with open(args.out, "w") as f:
        json.dump(out, f, ensure_ascii=False)
    print(f"{len(rows)} samples, {len({r['lang'] for r in rows})} languages, round trip ok -> {args.out}")


if __name__ == "__main__":
    main()
