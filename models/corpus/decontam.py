"""Decontamination against the evaluation sets in shared/evals (human-eval-infilling, SAFIM).

Every evaluation task becomes full texts (prompt + solution + suffix; SAFIM's eval_prompt with the
ground truth filled in, and its problem statement). Their 13-token n-grams (same code tokenizer as
dedup) form the index, minus boilerplate: an n-gram found in more than COMMON_DF distinct evaluation
texts (e.g. `a = list(map(int, input().split()))`) says nothing about contamination. A corpus file that
shares at least MIN_HITS distinct indexed n-grams (only n-grams with MIN_WORDS or more word tokens are
indexed) with the evaluation texts, or MIN_STRICT_HITS of those whose words are not all keywords and loop
idioms (STOP), is dropped, after discounting the n-grams that the corpus itself shows
to be boilerplate (`corpus_boilerplate`, decided in stage 2 over all packages).
"""
import glob
import gzip
import hashlib
import json
import os
import re

import numpy as np

from .dedup import TOKEN_RE, ngram_hashes, token_ids

NGRAM = 13
COMMON_DF = 10
MIN_HITS = 25       # a file is contaminated with this many shared indexed n-grams,
MIN_STRICT_HITS = 8  # or with this many shared n-grams that have 3+ words besides keywords and loop idioms
MIN_WORDS = 3      # an indexed n-gram has at least this many word tokens (identifiers of 2+ characters)
CORPUS_DF = 3      # stage 2: n-grams matched in this many corpus packages (and 2+ eval texts) are boilerplate
CORPUS_DF_ANY = 10  # ... and in this many packages whatever the evaluation texts say


# Keywords and names that every program of the evaluation languages uses: they do not count as words
# for the strict n-grams (`for ( int i = 0 ; i < count ; i` is no evidence of a copy).
STOP = frozenset("""
and as assert break case catch char class const continue def del do double elif else except false final
finally float for from function global if import in int is lambda len let long new none nonlocal not null or
pass print private protected public raise range return self short static std string struct switch this throw
throws true try using var void while with yield cin cout endl include main args argv argc system out println
input split map list str dict set sum max min sorted append scanner nextint java util io vector auto begin end
push_back size bool size_t namespace count length err summary param returns typeparam name value get
readonly override virtual sealed internal foreach ref params
""".split())


def informative_ngrams(text, n=NGRAM, min_words=None, stop=frozenset()):
    """Hashes of the n-grams of `text` that carry enough words to mean something: runs of punctuation
    ('/ / / /', '" a " , " b "') are shared by unrelated code and would make false hits."""
    min_words = MIN_WORDS if min_words is None else min_words
    toks = TOKEN_RE.findall(text)
    ids = token_ids(text)
    h = ngram_hashes(ids, n)
    if len(h) == 0:
        return h
    word = np.array([len(t) >= 2 and (t[0].isalpha() or t[0] == "_") and t.lower() not in stop for t in toks],
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


def _jsonl_records(pattern):
    """Every JSON record of the (optionally gzipped) JSONL files matching `pattern`, in file order."""
    for f in sorted(glob.glob(pattern)):
        op = gzip.open if f.endswith(".gz") else open
        with op(f, "rt", encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)


def _eval_texts(evals_dir):
    texts = set()
    for d in _jsonl_records(os.path.join(evals_dir, "human-eval-infilling", "*.jsonl*")):
        if "prompt" in d and "canonical_solution" in d:
            texts.add(d.get("prompt", "") + d.get("canonical_solution", "") + d.get("suffix", ""))
            if d.get("test"):
                texts.add(d["test"])
    for d in _jsonl_records(os.path.join(evals_dir, "safim", "*.jsonl*")):
        prog = d.get("eval_prompt", "").replace("{{completion}}", d.get("ground_truth", ""))
        texts.add(prog.replace("\r\n", "\n"))
        p = d.get("prompt", "")
        cut = p.find("\nCode:\n")
        texts.add((p[:cut] if cut >= 0 else p).replace("\r\n", "\n"))
    return sorted(t for t in texts if t.strip())


class DecontamIndex:
    BITS = 26          # a 2**26-bit membership bitmap (8 MiB) screens lookups before the exact search

    def __init__(self, hashes, n_texts=0, n_common=0, df=None, strict=None):
        self.hashes = np.asarray(hashes, dtype=np.uint64)    # sorted, unique
        # whether the n-gram has MIN_WORDS words outside STOP
        self.strict = np.ones(len(self.hashes), bool) if strict is None else np.asarray(strict, bool)
        # in how many distinct evaluation texts each n-gram occurs (1..COMMON_DF)
        self.df = np.ones(len(self.hashes), np.uint8) if df is None else np.asarray(df, np.uint8)
        self.n_texts = n_texts
        self.n_common = n_common
        self.fingerprint = hashlib.sha1(self.hashes.tobytes()).hexdigest()[:16] if len(self.hashes) else None
        self.bitmap = np.zeros(1 << self.BITS, dtype=bool)
        self.bitmap[(self.hashes >> np.uint64(64 - self.BITS)).astype(np.int64)] = True

    @classmethod
    def from_texts(cls, texts, n=NGRAM, common_df=COMMON_DF):
        per = [np.unique(informative_ngrams(t, n)) for t in texts]
        if not per:
            return cls(np.zeros(0, dtype=np.uint64))
        allh = np.concatenate(per)
        uniq, df = np.unique(allh, return_counts=True)
        sel = df <= common_df
        strict = np.unique(np.concatenate([informative_ngrams(t, n, stop=STOP) for t in texts]))
        keep = uniq[sel]
        return cls(keep, n_texts=len(texts), n_common=int((~sel).sum()), df=df[sel],
                   strict=np.isin(keep, strict))

    @classmethod
    def from_evals_dir(cls, evals_dir, cache_path=None):
        if cache_path and os.path.exists(cache_path):
            z = np.load(cache_path)
            return cls(z["hashes"], int(z["n_texts"]), int(z["n_common"]), z["df"], z["strict"])
        idx = cls.from_texts(eval_texts(evals_dir))
        if cache_path and len(idx.hashes):
            os.makedirs(os.path.dirname(cache_path), exist_ok=True)
            tmp = cache_path + ".tmp.npz"
            np.savez(tmp, hashes=idx.hashes, df=idx.df, strict=idx.strict, n_texts=idx.n_texts,
                     n_common=idx.n_common)
            os.replace(tmp, cache_path)
        return idx

    def matches(self, text=None, ids=None, n=NGRAM):
        """The distinct indexed n-grams (hashes, sorted) that a text shares with the evaluation texts."""
        if ids is None:
            ids = token_ids(text)
        h = ngram_hashes(ids, n)
        if len(h) == 0 or len(self.hashes) == 0:
            return np.zeros(0, np.uint64)
        h = np.unique(h[self.bitmap[(h >> np.uint64(64 - self.BITS)).astype(np.int64)]])
        if len(h) == 0:
            return h
        pos = np.searchsorted(self.hashes, h)
        pos[pos >= len(self.hashes)] = 0
        return h[self.hashes[pos] == h]

    def _lookup(self, h, arr, default):
        pos = np.searchsorted(self.hashes, h)
        pos[pos >= len(self.hashes)] = 0
        return np.where(self.hashes[pos] == h, arr[pos], default)

    def eval_df(self, h):
        return self._lookup(h, self.df, 0)

    def n_strict(self, h):
        return int(self._lookup(h, self.strict, False).sum()) if len(h) else 0

    def verdict(self, matched):
        """Contaminated: many shared n-grams, or enough shared n-grams that are not keyword idioms."""
        return len(matched) >= MIN_HITS or self.n_strict(matched) >= MIN_STRICT_HITS

    def hits(self, text=None, ids=None, n=NGRAM):
        return len(self.matches(text, ids, n))

    def contaminated(self, text=None, ids=None):
        """The test for one text alone (no corpus statistics)."""
        return self.verdict(self.matches(text, ids))


def corpus_boilerplate(match_lists, package_of, index, corpus_df=CORPUS_DF, corpus_df_any=CORPUS_DF_ANY):
    """Evaluation n-grams that the corpus shows to be boilerplate: found in >= corpus_df distinct corpus
    packages and in >= 2 evaluation texts, or in >= corpus_df_any packages whatever the evaluation texts
    say. (C# doc comments such as `/// </summary> /// <typeparam name=` are shared by a few
    evaluation programs and by every C# library.) A real copy of one evaluation task is specific to
    one evaluation text, so its n-grams are not removed unless it is copied into many packages."""
    if not match_lists:
        return np.zeros(0, np.uint64)
    lens = np.array([len(m) for m in match_lists])
    allh = np.concatenate(match_lists)
    allp = np.repeat(np.asarray(package_of, np.uint64), lens)
    pairs = np.unique(np.stack([allh, allp], axis=1), axis=0)
    uh, npk = np.unique(pairs[:, 0], return_counts=True)
    edf = index.eval_df(uh)
    return uh[((npk >= corpus_df) & (edf >= 2)) | (npk >= corpus_df_any)]


def contaminated(match_lists, package_of, index):
    """Per document (with its matched eval n-grams), whether it is contaminated once corpus boilerplate is
    discounted."""
    boiler = corpus_boilerplate(match_lists, package_of, index)
    return np.array([index.verdict(np.setdiff1d(m, boiler, assume_unique=True)) for m in match_lists],
                    dtype=bool)
