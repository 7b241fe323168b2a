"""Exact and near-duplicate detection (MinHash + LSH, numpy only), and the code tokenizer they share
with decontamination."""
import hashlib
import re
import zlib

import numpy as np

TOKEN_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|[^\sA-Za-z0-9_]")
NUM_PERM = 128
BANDS = 16            # 16 bands x 8 rows: pairs with Jaccard ~0.7 collide in a band about half the time
ROWS = NUM_PERM // BANDS
SHINGLE = 5
NEAR_DUP_JACCARD = 0.8

_tok_cache = {}


def token_ids(text):
    """Code tokens -> stable 32-bit ids (crc32, the same in every process) as uint64 array."""
    cache = _tok_cache
    toks = TOKEN_RE.findall(text)
    get = cache.get
    ids = [get(t) for t in toks]
    if None in ids:
        for i, v in enumerate(ids):
            if v is None:
                t = toks[i]
                v = ids[i] = zlib.crc32(t.encode("utf-8"))
                if len(cache) < 2_000_000:
                    cache[t] = v
    return np.array(ids, dtype=np.uint64)


def ngram_hashes(ids, n):
    """Rolling polynomial hash of every n consecutive ids (uint64, wrapping)."""
    if len(ids) < n:
        return np.zeros(0, dtype=np.uint64)
    m = len(ids) - n + 1
    h = np.zeros(m, dtype=np.uint64)
    p = np.uint64(1099511628211)
    with np.errstate(over="ignore"):
        for k in range(n):
            h = h * p + ids[k:k + m]
    return h


def exact_key(text):
    """Hash after normalising trailing whitespace and blank-line runs, so re-indented copies of the
    same bytes at the end of lines still count as exact duplicates."""
    norm = "\n".join(l.rstrip() for l in text.strip().split("\n"))
    return hashlib.sha1(norm.encode("utf-8")).digest()[:16]


_rng = np.random.RandomState(0x5EED)
_A = (_rng.randint(1, 2**31, size=NUM_PERM, dtype=np.int64).astype(np.uint64) << np.uint64(32)) | \
    _rng.randint(1, 2**31, size=NUM_PERM, dtype=np.int64).astype(np.uint64) | np.uint64(1)
_B = (_rng.randint(0, 2**31, size=NUM_PERM, dtype=np.int64).astype(np.uint64) << np.uint64(32)) | \
    _rng.randint(0, 2**31, size=NUM_PERM, dtype=np.int64).astype(np.uint64)


def minhash(text, ids=None):
    """128 x uint32 MinHash signature of the set of 5-token shingles (multiply-shift hash family)."""
    if ids is None:
        ids = token_ids(text)
    sh = ngram_hashes(ids, SHINGLE) if len(ids) >= SHINGLE else ngram_hashes(ids, max(1, len(ids)))
    if len(sh) == 0:
        return np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)
    sh = np.unique(sh)
    if len(sh) > 20000:     # very large files: a deterministic subsample of shingles keeps memory bounded
        sh = sh[(sh % np.uint64(7)) == 0] if len(sh) > 40000 else sh
    sig = np.empty(NUM_PERM, dtype=np.uint32)
    with np.errstate(over="ignore"):
        for start in range(0, NUM_PERM, 32):
            a = _A[start:start + 32, None]
            b = _B[start:start + 32, None]
            v = (a * sh[None, :] + b) >> np.uint64(32)
            sig[start:start + 32] = v.min(axis=1).astype(np.uint32)
    return sig


def jaccard_estimate(s1, s2):
    return float(np.mean(s1 == s2))


class UnionFind:
    def __init__(self, n):
        self.p = np.arange(n, dtype=np.int64)

    def find(self, x):
        p = self.p
        root = x
        while p[root] != root:
            root = p[root]
        while p[x] != root:
            p[x], x = root, p[x]
        return root

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if ra < rb:          # the smaller index (earlier in priority order) stays the root
            self.p[rb] = ra
        else:
            self.p[ra] = rb


def near_duplicates(sigs, alive=None, threshold=NEAR_DUP_JACCARD):
    """Indices (into sigs) to drop as near-duplicates. Rows are in priority order: in each cluster the
    earliest row is kept."""
    idx, roots = near_duplicate_roots(sigs, alive, threshold)
    return idx[roots != idx]


def near_duplicate_roots(sigs, alive=None, threshold=NEAR_DUP_JACCARD):
    """(idx, roots): the alive rows and, for each, the earliest row of its near-duplicate cluster. Candidates
    come from LSH buckets; each member is verified against its bucket's first member with the signature
    Jaccard estimate (star, not all pairs: linear in bucket size)."""
    n = len(sigs)
    if alive is None:
        alive = np.ones(n, dtype=bool)
    idx = np.nonzero(alive)[0]
    if len(idx) < 2:
        return idx, idx.copy()
    uf = UnionFind(n)
    S = sigs[idx].astype(np.uint64)
    for b in range(BANDS):
        band = S[:, b * ROWS:(b + 1) * ROWS]
        key = np.zeros(len(idx), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for r in range(ROWS):
                key = key * np.uint64(0x9E3779B97F4A7C15) + band[:, r]
        order = np.argsort(key, kind="stable")
        ks = key[order]
        starts = np.nonzero(np.r_[True, ks[1:] != ks[:-1]])[0]
        ends = np.r_[starts[1:], len(ks)]
        multi = np.nonzero(ends - starts > 1)[0]
        for g in multi:
            members = idx[order[starts[g]:ends[g]]]
            first = members[0]
            sims = np.mean(sigs[members[1:]] == sigs[first][None, :], axis=1)
            for m, s in zip(members[1:], sims):
                if s >= threshold:
                    uf.union(int(first), int(m))
    roots = np.array([uf.find(int(i)) for i in idx], dtype=np.int64)
    return idx, roots
