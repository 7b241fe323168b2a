"""Decontamination against the evaluation sets in shared/evals (human-eval-infilling, SAFIM).

Every evaluation task becomes full texts (prompt + solution + suffix; SAFIM's eval_prompt with the
ground truth filled in, and its problem statement). Their 13-token n-grams (same code tokenizer as
dedup) form the index, minus boilerplate: an n-gram found in more than COMMON_DF distinct evaluation
texts (e.g. `a = list(map(int, input().split()))`) says nothing about contamination. A corpus file that
shares at least MIN_HITS distinct indexed n-grams (only n-grams with MIN_WORDS or more word tokens are
indexed) with the evaluation texts is dropped.
"""
import glob
import gzip
import json
import os
import re

import numpy as np

from .dedup import TOKEN_RE, ngram_hashes, token_ids

NGRAM = 13
COMMON_DF = 10
MIN_HITS = 8
MIN_WORDS = 3      # an indexed n-gram has at least this many word tokens (identifiers of 2+ characters)


def informative_ngrams(text, n=NGRAM, min_words=None):
    """Hashes of the n-grams of `text` that carry enough words to mean something: runs of punctuation
    ('/ / / /', '" a " , " b "') are shared by unrelated code and would make false hits."""
    min_words = MIN_WORDS if min_words is None else min_words
    toks = TOKEN_RE.findall(text)
    ids = token_ids(text)
    h = ngram_hashes(ids, n)
    if len(h) == 0:
        return h
    word = np.array([len(t) >= 2 and (t[0].isalpha() or t[0] == "_") for t in toks],
                    dtype=np.int32)
    c = np.concatenate([[0], np.cumsum(word)])
    words_in = c[n:] - c[:-n]
    return h[words_in >= min_words]


_IMPORT_LINE = re.compile(r"^[ \t]*(?:#[ \t]*include\b|import[ \t]|from[ \t]+\S+[ \t]+import\b|using[ \t]+[\w.]+[ \t]*;|"
                          r"package[ \t]+[\w.]+[ \t]*;|#[ \t]*define[ \t]+(?:ll|ull|pb|mp|fi|se|endl)\b).*$", re.M)


def strip_imports(text):
    """Import/include lines are boilerplate shared by unrelated programs: they are not indexed."""
    return _IMPORT_LINE.sub("", text)


def eval_texts(evals_dir):
    """Unique evaluation texts (each a program or a problem statement), import lines removed."""
    return sorted({strip_imports(t) for t in _eval_texts(evals_dir)} - {""})


def _eval_texts(evals_dir):
    texts = set()
    for f in sorted(glob.glob(os.path.join(evals_dir, "human-eval-infilling", "*.jsonl*"))):
        op = gzip.open if f.endswith(".gz") else open
        with op(f, "rt", encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                d = json.loads(line)
                if "prompt" in d and "canonical_solution" in d:
                    texts.add(d.get("prompt", "") + d.get("canonical_solution", "") + d.get("suffix", ""))
                    if d.get("test"):
                        texts.add(d["test"])
    for f in sorted(glob.glob(os.path.join(evals_dir, "safim", "*.jsonl*"))):
        op = gzip.open if f.endswith(".gz") else open
        with op(f, "rt", encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                d = json.loads(line)
                prog = d.get("eval_prompt", "").replace("{{completion}}", d.get("ground_truth", ""))
                texts.add(prog.replace("\r\n", "\n"))
                p = d.get("prompt", "")
                cut = p.find("\nCode:\n")
                texts.add((p[:cut] if cut >= 0 else p).replace("\r\n", "\n"))
    return sorted(t for t in texts if t.strip())


class DecontamIndex:
    BITS = 26          # a 2**26-bit membership bitmap (8 MiB) screens lookups before the exact search

    def __init__(self, hashes, n_texts=0, n_common=0):
        self.hashes = np.asarray(hashes, dtype=np.uint64)    # sorted, unique
        self.n_texts = n_texts
        self.n_common = n_common
        self.bitmap = np.zeros(1 << self.BITS, dtype=bool)
        self.bitmap[(self.hashes >> np.uint64(64 - self.BITS)).astype(np.int64)] = True

    @classmethod
    def from_texts(cls, texts, n=NGRAM, common_df=COMMON_DF):
        per = [np.unique(informative_ngrams(t, n)) for t in texts]
        if not per:
            return cls(np.zeros(0, dtype=np.uint64))
        allh = np.concatenate(per)
        uniq, df = np.unique(allh, return_counts=True)
        keep = uniq[df <= common_df]
        return cls(keep, n_texts=len(texts), n_common=int((df > common_df).sum()))

    @classmethod
    def from_evals_dir(cls, evals_dir, cache_path=None):
        if cache_path and os.path.exists(cache_path):
            z = np.load(cache_path)
            return cls(z["hashes"], int(z["n_texts"]), int(z["n_common"]))
        idx = cls.from_texts(eval_texts(evals_dir))
        if cache_path:
            os.makedirs(os.path.dirname(cache_path), exist_ok=True)
            tmp = cache_path + ".tmp.npz"
            np.savez(tmp, hashes=idx.hashes, n_texts=idx.n_texts, n_common=idx.n_common)
            os.replace(tmp, cache_path)
        return idx

    def hits(self, text=None, ids=None, n=NGRAM):
        if ids is None:
            ids = token_ids(text)
        h = ngram_hashes(ids, n)
        if len(h) == 0 or len(self.hashes) == 0:
            return 0
        h = np.unique(h[self.bitmap[(h >> np.uint64(64 - self.BITS)).astype(np.int64)]])
        if len(h) == 0:
            return 0
        pos = np.searchsorted(self.hashes, h)
        pos[pos >= len(self.hashes)] = 0
        return int((self.hashes[pos] == h).sum())

    def contaminated(self, text=None, ids=None, min_hits=MIN_HITS):
        return self.hits(text, ids) >= min_hits
