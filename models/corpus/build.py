"""Build the UltraMem code corpus end to end.

    nice -n 10 /usr/bin/python3 -m models.corpus.build                 # all sources, full lists
    nice -n 10 /usr/bin/python3 -m models.corpus.build --limit 30      # first 30 packages of each list
    /usr/bin/python3 -m models.corpus.build --sources pysite --site-dir /usr/lib/python3/dist-packages

Stages: (1) process, per package and resumable: fetch, license, file filters, decontamination, exact-dedup
key and MinHash signature, written to data/corpus/work/; (2) finalize, global: held-out split by
package, exact dedup, near-dedup (LSH), packing gzip JSONL shards under data/corpus/shards/ and the
manifest. See README.md in this folder.
"""
import argparse
import glob
import gzip
import hashlib
import json
import lzma
import os
import shutil
import sys
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import dedup, filters, licenses, split
from . import decontam
from .decontam import DecontamIndex
from .langs import ALL_LANGS, AUX_LANGS, language_of, resolve_headers
from .manifest import manifest_of, read_runs
from .sources import DebianSource, NpmSource, PySiteSource, safe_name

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_OUT = os.path.join(REPO, "data", "corpus")
DEFAULT_EVALS = os.path.join(os.path.dirname(REPO), "shared", "evals")
LANG_CODE = {l: i for i, l in enumerate(ALL_LANGS)}
WORK_VERSION = 2                      # bump when per-package processing changes (forces a redo)


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def read_list(path):
    """(name, category) per entry; the category is the first word of the entry's comment (lists.py
    writes `name  # python, 0.1 MB`), '' where there is none."""
    out = []
    if not os.path.exists(path):
        return out
    for line in open(path, encoding="utf-8"):
        name, _, comment = line.partition("#")
        name = name.strip()
        if name:
            out.append((name, comment.strip().split(",", 1)[0]))
    return out


def parse_limit(spec: str):
    """'2000' or '2000,npm=3000' -> {"": 2000, "npm": 3000} (the "" entry is every other source)."""
    out = {"": 0}
    for part in spec.split(","):
        source, _, n = part.rpartition("=")
        out[source] = int(n)
    return out


def parse_part(spec: str):
    """'I/N' -> (I, N): the packages whose name hashes to I modulo N."""
    i, n = (int(x) for x in spec.split("/"))
    if not 0 <= i < n:
        raise argparse.ArgumentTypeError(f"--part {spec}: I must be in 0..N-1")
    return i, n


def limit_list(entries, limit, whole=()):
    """The first `limit` entries (0: all), plus every later entry of a category in `whole`: the lists are
    round-robin over categories, so a language that is short of data can be taken whole on its own."""
    return [name for i, (name, cat) in enumerate(entries) if not limit or i < limit or cat in whole]


def _add(d, reason, nbytes, path=None):
    r = d.setdefault(reason, {"files": 0, "bytes": 0})
    r["files"] += 1
    r["bytes"] += nbytes
    if path is not None and len(r.setdefault("examples", [])) < 3:
        r["examples"].append(path)


# ------------------------------------------------------------------------------ stage 1: per package

def filter_package(cands, decon, source_name):
    """Apply the file filters to a package's candidates. Returns (docs, removed, seen_bytes) where docs
    are dicts with path, lang, text."""
    removed, docs = {}, []
    langs = {}
    seen = 0
    for c in cands:
        size = c.size
        seen += size
        if c.reason:
            _add(removed, c.reason, size, c.path)
            continue
        lang = language_of(c.path, c.data[:128])
        text = filters.decode(c.data)
        if text is None:
            _add(removed, "binary_or_non_utf8", size, c.path)
            continue
        langs[c.path] = lang
        docs.append({"path": c.path, "lang": lang, "text": text})
    fixed = resolve_headers(langs)
    aux_used = {}
    kept = []
    for d in docs:
        d["lang"] = fixed[d["path"]]
        nbytes = len(d["text"].encode("utf-8"))
        reason = filters.content_reason(d["text"], d["lang"], d["path"])
        ids = None
        if reason is None:
            ids = dedup.token_ids(d["text"])
            # evaluation n-grams it shares; the verdict waits for stage 2 (corpus-wide boilerplate)
            d["ev"] = decon.matches(ids=ids) if decon is not None else np.zeros(0, np.uint64)
        if reason is None and d["lang"] in AUX_LANGS:
            used = aux_used.get(d["lang"], 0)
            if used + nbytes > filters.AUX_BYTES_PER_PACKAGE:
                reason = "aux_cap"
            else:
                aux_used[d["lang"]] = used + nbytes
        if reason:
            _add(removed, reason, nbytes, d["path"])
            continue
        d["bytes"] = nbytes
        d["key"] = dedup.exact_key(d["text"])
        d["sig"] = dedup.minhash(d["text"], ids)
        kept.append(d)
    return kept, removed, seen


class Builder:
    def __init__(self, args):
        self.args = args
        self.out = args.out
        self.work = os.path.join(self.out, "work")
        self.cache = os.path.join(self.out, "cache")
        self.sources = {}
        for s in args.sources:
            if s == "debian":
                self.sources[s] = DebianSource(self.cache)
            elif s == "npm":
                self.sources[s] = NpmSource(self.cache)
            elif s == "pysite":
                if not args.site_dir:
                    sys.exit("--site-dir is needed for the pysite source")
                self.sources[s] = PySiteSource(self.cache, args.site_dir)
            else:
                sys.exit(f"unknown source {s}")
        self._decon = None

    @property
    def decon(self):
        if self._decon is None and not self.args.no_decontam:
            t = time.time()
            if not os.path.isdir(self.args.evals):
                log(f"WARNING: no evaluation data at {self.args.evals}: files are not matched against it now; "
                    "the finalize stage matches them where the data is")
            src = hashlib.sha1()
            for f in sorted(glob.glob(os.path.join(self.args.evals, "*", "*.jsonl*"))):
                src.update(f"{os.path.relpath(f, self.args.evals)}:{os.path.getsize(f)};".encode())
            self._decon = DecontamIndex.from_evals_dir(self.args.evals, os.path.join(
                self.work, f"decontam-v3-n{decontam.NGRAM}-w{decontam.MIN_WORDS}-df{decontam.COMMON_DF}-"
                           f"{src.hexdigest()[:12]}.npz"))
            log(f"decontamination index: {len(self._decon.hashes)} n-grams from {self._decon.n_texts} "
                f"eval texts ({self._decon.n_common} boilerplate n-grams left out), {time.time() - t:.1f}s")
        return self._decon

    def package_list(self, source):
        entries = read_list(os.path.join(self.args.lists, source + ".txt"))
        if source == "pysite" and [n for n, _ in entries] == ["*"]:
            from .sources import dist_infos
            entries = [(n, "") for n in sorted(dist_infos(self.args.site_dir))]
        return limit_list(entries, self.args.limit.get(source, self.args.limit[""]), self.args.whole)

    def paths(self, source, pkg):
        base = os.path.join(self.work, source, safe_name(pkg))
        return base + ".stats.json", base + ".docs.jsonl.gz", base + ".npz"

    def done(self, source, pkg):
        st, _, _ = self.paths(source, pkg)
        if not os.path.exists(st):
            return False
        try:
            s = json.load(open(st))
        except ValueError:
            return False
        if s.get("work_version") != WORK_VERSION:
            return False
        if s["status"] == "fetch_error" and self.args.retry_failed:
            return False
        if s["status"] == "not_permissive" and (
                (s.get("license") and licenses.judge_expression(s["license"])[0]) or
                (s["source"] == "debian" and s.get("judge_version", 1) < licenses.JUDGE_VERSION and
                 s.get("license_how") == "debian/copyright not machine-readable")):
            return False            # the license judge has learnt this license since: process it again
        return True

    def process_all(self):
        part, parts = self.args.part
        todo = [(s, p) for s in self.sources for p in self.package_list(s)
                if zlib.crc32(f"{s}:{p}".encode()) % parts == part and not self.done(s, p)]
        total = sum(len(self.package_list(s)) for s in self.sources)
        log(f"process: {len(todo)} of {total} packages to do")
        if not todo:
            return
        _ = self.decon
        t_run = time.time()
        agg = {"packages": 0, "raw_bytes": 0, "candidate_bytes": 0, "kept_bytes": 0}

        def fetch(s, p):           # downloads run in threads (network, not CPU) ahead of processing
            t = time.time()
            try:
                return self.sources[s].fetch(p), None, time.time() - t
            except Exception as e:  # noqa: BLE001 (recorded in the package's stats, the run goes on)
                return None, str(e), time.time() - t
        def fetch_batch(batch):
            src = self.sources[batch[0][0]]
            if len(batch) > 1 and hasattr(src, "fetch_many"):
                t = time.time()
                res = src.fetch_many([p for _, p in batch])
                dt = (time.time() - t) / len(batch)
                return [(res[p][0], res[p][1], dt) for _, p in batch]
            return [fetch(s, p) for s, p in batch]
        batches = []
        for s, p in todo:          # consecutive packages of a source with fetch_many share one download call
            if batches and batches[-1][0][0] == s and hasattr(self.sources[s], "fetch_many") \
                    and len(batches[-1]) < self.args.fetch_batch:
                batches[-1].append((s, p))
            else:
                batches.append([(s, p)])
        n = 0
        with ThreadPoolExecutor(max_workers=self.args.fetch_threads) as ex:
            window = self.args.fetch_threads + 1
            futs = [ex.submit(fetch_batch, b) for b in batches[:window]]
            for bi, batch in enumerate(batches):
                if bi + window < len(batches):
                    futs.append(ex.submit(fetch_batch, batches[bi + window]))
                results = futs[bi].result()
                futs[bi] = None
                for (s, p), (d, err, t_fetch) in zip(batch, results):
                    n += 1
                    self.process_one(s, p, d, err, t_fetch)
                    st = json.load(open(self.paths(s, p)[0]))
                    kept = sum(v["bytes"] for v in st.get("kept", {}).values())
                    agg["packages"] += 1
                    agg["raw_bytes"] += st.get("raw_bytes", 0) or 0
                    agg["candidate_bytes"] += st.get("candidate_bytes", 0) or 0
                    agg["kept_bytes"] += kept
                    log(f"[{n}/{len(todo)}] {s}:{p} {st['status']} license={st.get('license')!r} "
                        f"kept {kept / 1e6:.2f} MB")
        agg["wall_s"] = round(time.time() - t_run, 1)
        agg["fetch_threads"] = self.args.fetch_threads
        agg["ended"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with open(os.path.join(self.work, "runs.jsonl"), "a") as fh:
            fh.write(json.dumps(agg) + "\n")
        log(f"process: {agg['packages']} packages in {agg['wall_s']}s wall, "
            f"{agg['candidate_bytes'] / 1e6:.1f} MB text read, {agg['kept_bytes'] / 1e6:.1f} MB kept")

    def process_one(self, s, p, d, err, t_fetch):
        st_path, docs_path, npz_path = self.paths(s, p)
        os.makedirs(os.path.dirname(st_path), exist_ok=True)
        stats = {"work_version": WORK_VERSION, "source": s, "package": p, "times": {"fetch": t_fetch}}
        if err is not None:
            stats.update(status="fetch_error", error=err[-300:])
            self._write_json(st_path, stats)
            return
        t = time.time()
        try:
            meta, cands = self.sources[s].read(p, d)
        except Exception as e:    # a broken archive must not stop a long run
            stats.update(status="read_error", error=repr(e)[-300:])
            self._write_json(st_path, stats)
            return
        stats["times"]["read"] = time.time() - t
        stats.update(meta)
        t = time.time()
        docs, removed, seen = filter_package(cands, self.decon, s) if meta["permissive"] else ([], {}, 0)
        stats["times"]["filter"] = time.time() - t
        stats["decontam_index"] = self.decon.fingerprint if self.decon is not None else None
        stats["candidate_files"] = len(cands)
        stats["candidate_bytes"] = seen
        stats["removed"] = removed
        kept = {}
        for x in docs:
            _add(kept, x["lang"], x["bytes"])
        stats["kept"] = kept
        stats["status"] = "ok" if meta["permissive"] else "not_permissive"
        tmp = docs_path + ".tmp"
        with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=3) as fh:
            for x in docs:
                fh.write(json.dumps({"path": x["path"], "lang": x["lang"], "text": x["text"]},
                                    ensure_ascii=False) + "\n")
        os.replace(tmp, docs_path)
        sig = np.stack([x["sig"] for x in docs]) if docs else np.zeros((0, dedup.NUM_PERM), np.uint32)
        keys = np.frombuffer(b"".join(x["key"] for x in docs), dtype="V16") if docs else np.zeros(0, "V16")
        lang = np.array([LANG_CODE[x["lang"]] for x in docs], dtype=np.uint8)
        nb = np.array([x["bytes"] for x in docs], dtype=np.int64)
        ev_off = np.cumsum([0] + [len(x["ev"]) for x in docs]).astype(np.int64)
        ev = np.concatenate([x["ev"] for x in docs]) if docs else np.zeros(0, np.uint64)
        paths = np.array([x["path"] for x in docs], dtype=str)
        with open(npz_path + ".tmp", "wb") as fh:
            np.savez(fh, sig=sig, keys=keys, lang=lang, bytes=nb, ev=ev, ev_off=ev_off, paths=paths)
        os.replace(npz_path + ".tmp", npz_path)
        self._write_json(st_path, stats)       # last: its presence marks the package done
        if not self.args.keep_cache and d and s != "pysite":
            shutil.rmtree(d, ignore_errors=True)

    @staticmethod
    def _write_json(path, obj):
        with open(path + ".tmp", "w") as fh:
            json.dump(obj, fh, indent=1, sort_keys=True)
        os.replace(path + ".tmp", path)

    # -------------------------------------------------------------------------- stage 2: finalize

    def finalize(self):
        t0 = time.time()
        pkgs = []
        all_stats = []
        for s in self.sources:
            for p in self.package_list(s):
                st_path = self.paths(s, p)[0]
                if not os.path.exists(st_path):
                    continue
                st = json.load(open(st_path))
                all_stats.append(st)
                if st["status"] == "ok" and st.get("kept"):
                    pkgs.append(st)
        by_key = {f"{st['source']}:{st['package']}": st for st in pkgs}
        sides = split.assign({k: {l: v["bytes"] for l, v in st["kept"].items()} for k, st in by_key.items()},
                             frac=self.args.heldout_frac)
        for earlier in self.args.split_from:    # in order: a later build's side wins
            sides.update(split.sides_of_earlier_build(earlier, by_key))
        seen = self.seen_packages()
        # held-out packages first (exact dedup keeps a file's first copy, so the held-out side keeps its files); then
        # the packages that earlier models trained on, so that a file they share with a new package stays with
        # them and the fresh shards, packed last, hold only what no earlier model saw
        order = sorted(by_key, key=lambda k: (sides[k] != "heldout", not self.is_seen(k, seen),
                                              split.package_hash(k)))
        sigs, keys, langs, nbytes, owner, doc_paths, ev_lists, ev_doc, ev_pkg = self.load_work(order, by_key)
        n = len(keys)
        t_load = time.time() - t0
        # decontamination verdicts, now that the whole corpus says which eval n-grams are boilerplate
        t = time.time()
        contam = np.zeros(n, dtype=bool)
        if ev_lists and self.decon is not None:
            flags = decontam.contaminated(ev_lists, ev_pkg, self.decon)
            contam[np.asarray(ev_doc, dtype=np.int64)[flags]] = True
        t_decon = time.time() - t
        # exact dedup: first occurrence in priority order (held-out packages first) is kept
        t = time.time()
        alive = ~contam
        live = np.nonzero(alive)[0]
        keep = np.zeros(n, dtype=bool)
        if len(live):
            _, first = np.unique(keys[live], return_index=True)
            keep[live[first]] = True
        exact_removed = alive & ~keep
        alive = keep
        t_exact = time.time() - t
        t = time.time()
        near = dedup.near_duplicates(sigs, alive)
        alive[near] = False
        t_near = time.time() - t
        log(f"finalize: {n} files, exact dups {int(exact_removed.sum())}, near dups {len(near)} "
            f"({t_exact:.1f}s + {t_near:.1f}s)")
        packed = self.pack(order, by_key, sides, alive, owner, seen)
        t_pack = packed["pack_s"]

        def per_lang(mask):
            out = {}
            for code in np.unique(langs[mask]):
                m = mask & (langs == code)
                out[ALL_LANGS[code]] = {"files": int(m.sum()), "bytes": int(nbytes[m].sum())}
            return out
        near_mask = np.zeros(n, dtype=bool)
        near_mask[near] = True
        timing = {"finalize_load_s": t_load, "exact_dedup_s": t_exact, "near_dedup_s": t_near, "pack_s": t_pack,
                  "decontam_s": t_decon}
        all_paths = np.concatenate(doc_paths) if doc_paths else np.zeros(0, str)
        doc_pkg = owner
        contam_examples = [f"{order[doc_pkg[i]]}:{all_paths[i]}" for i in np.nonzero(contam)[0][:20]]
        self.write_manifest(all_stats, sides, packed, per_lang(exact_removed), per_lang(near_mask), timing, n,
                            per_lang(contam), contam_examples)

    def seen_packages(self):
        """{(source, name)} of the packages that --seen-lists names; None without it (every package counts as seen,
        and the train shards are one series)."""
        if not self.args.seen_lists:
            return None
        return {(s, split.package_name(s, name)) for s in self.sources
                for name, _ in read_list(os.path.join(self.args.seen_lists, s + ".txt"))}

    @staticmethod
    def is_seen(key, seen):
        source, package = key.split(":", 1)
        return seen is None or (source, split.package_name(source, package)) in seen

    def load_work(self, order, by_key):
        """The processed packages' files, in `order`: MinHash signatures, exact keys, languages, sizes, owning
        package (index in `order`) and paths, and their evaluation n-gram matches (lists, file and package)."""
        sigs, keys, langs, nbytes, owner = [], [], [], [], []
        ev_lists, ev_doc, ev_pkg, doc_paths = [], [], [], []
        base = 0
        for i, k in enumerate(order):
            st = by_key[k]
            z = np.load(self.paths(st["source"], st["package"])[2])
            off, ev = z["ev_off"], z["ev"]
            if self.decon is not None and st.get("decontam_index") != self.decon.fingerprint:
                off, ev = self.rematch(st)      # processed without (or with other) evaluation data
            for j in np.nonzero(np.diff(off))[0]:
                ev_lists.append(ev[off[j]:off[j + 1]])
                ev_doc.append(base + j)
                ev_pkg.append(i)
            doc_paths.append(z["paths"])
            base += len(z["lang"])
            sigs.append(z["sig"])
            keys.append(z["keys"])
            langs.append(z["lang"])
            nbytes.append(z["bytes"])
            owner.append(np.full(len(z["lang"]), i, dtype=np.int64))
        sigs = np.concatenate(sigs) if sigs else np.zeros((0, dedup.NUM_PERM), np.uint32)
        keys = np.concatenate(keys) if keys else np.zeros(0, "V16")
        langs = np.concatenate(langs) if langs else np.zeros(0, np.uint8)
        nbytes = np.concatenate(nbytes) if nbytes else np.zeros(0, np.int64)
        owner = np.concatenate(owner) if owner else np.zeros(0, np.int64)
        return sigs, keys, langs, nbytes, owner, doc_paths, ev_lists, ev_doc, ev_pkg

    def rematch(self, st):
        """Evaluation n-gram matches of a package's kept files, recomputed with the current index (for
        packages processed where the evaluation data was missing, e.g. the pysite source on the GPU
        machine)."""
        lists = []
        with gzip.open(self.paths(st["source"], st["package"])[1], "rt", encoding="utf-8") as fh:
            for line in fh:
                lists.append(self.decon.matches(json.loads(line)["text"]))
        off = np.cumsum([0] + [len(m) for m in lists]).astype(np.int64)
        ev = np.concatenate(lists) if lists else np.zeros(0, np.uint64)
        return off, ev

    def pack(self, order, by_key, sides, alive, owner, seen):
        shard_dir = os.path.join(self.out, "shards")
        # the shards are rewritten only when their content would change (a rerun with nothing new is cheap)
        h = hashlib.sha256()
        for k in order:
            h.update(f"{k}={sides[k]}|{by_key[k].get('version')};".encode())
        h.update(np.packbits(alive).tobytes())
        h.update(f"{self.args.compress}|{self.args.shard_mib}|{self.args.tokenizer}".encode())
        if seen is not None:
            h.update(repr(sorted(seen)).encode())
        digest = h.hexdigest()
        stamp = os.path.join(shard_dir, "pack.json")
        if os.path.exists(stamp):
            prev = json.load(open(stamp))
            if prev.get("digest") == digest:
                log("pack: shards are up to date")
                return prev["packed"]
        t_start = time.time()
        tmp_dir = shard_dir + ".tmp"
        shutil.rmtree(tmp_dir, ignore_errors=True)
        os.makedirs(os.path.join(tmp_dir, "train"))
        os.makedirs(os.path.join(tmp_dir, "heldout"))
        tok = self.tokenizer()
        writers = {}
        stats = {}
        pos = 0
        for i, k in enumerate(order):
            st = by_key[k]
            side = sides[k]
            # fresh-NNNNN sorts first: the shards a continued run takes (stage_gpu_part.sh 1, 2, ...)
            train_series = "train" if self.is_seen(k, seen) else "fresh"
            with gzip.open(self.paths(st["source"], st["package"])[1], "rt", encoding="utf-8") as fh:
                for line in fh:
                    keep = alive[pos]
                    pos += 1
                    if not keep:
                        continue
                    d = json.loads(line)
                    rec = {"text": d["text"], "lang": d["lang"], "source": st["source"],
                           "package": st["package"], "version": st.get("version"), "path": d["path"],
                           "license": st.get("license")}
                    wkey = ("train", train_series) if side == "train" else ("heldout", d["lang"])
                    w = writers.get(wkey)
                    if w is None:
                        w = writers[wkey] = ShardWriter(os.path.join(tmp_dir, wkey[0]), wkey[1],
                                                              self.args.compress, self.args.shard_mib << 20,
                                                              self.args.xz_preset)
                    w.write(rec)
                    s = stats.setdefault(side, {}).setdefault(d["lang"], {"files": 0, "bytes": 0, "tokens": 0,
                                                                         "packages": set()})
                    s["files"] += 1
                    s["bytes"] += len(d["text"].encode("utf-8"))
                    s["packages"].add(k)
                    if tok is not None:
                        s["tokens"] += len(tok.encode(d["text"]).ids)
        assert pos == len(alive), (pos, len(alive))
        shards = []
        for w in writers.values():
            shards.extend(w.close())
        if os.path.exists(shard_dir):
            shutil.rmtree(shard_dir)
        os.replace(tmp_dir, shard_dir)
        for side in stats.values():
            for v in side.values():
                v["packages"] = len(v["packages"])
                if tok is None:
                    v.pop("tokens")
                    v["tokens_estimated"] = round(v["bytes"] / 4)
        packed = {"stats": stats, "shards": sorted(shards, key=lambda x: x["file"]),
                  "tokenizer": self.args.tokenizer if tok is not None else None,
                  "pack_s": round(time.time() - t_start, 1)}
        self._write_json(os.path.join(shard_dir, "pack.json"), {"digest": digest, "packed": packed})
        return packed

    def tokenizer(self):
        if not self.args.tokenizer:
            return None
        try:
            from tokenizers import Tokenizer
        except ImportError:
            log("Python `tokenizers` is not installed: token counts are estimated (bytes / 4)")
            return None
        return Tokenizer.from_file(self.args.tokenizer)

    def write_manifest(self, all_stats, sides, packed, exact_by_lang, near_by_lang, timing, n_files,
                       contam_by_lang, contam_examples):
        manifest = manifest_of(self.args, all_stats, sides, packed, exact_by_lang, near_by_lang, timing, n_files,
                               contam_by_lang, contam_examples, read_runs(self.work))
        for path in (os.path.join(self.out, "manifest.json"), self.args.manifest):
            if not path:
                continue
            os.makedirs(os.path.dirname(path), exist_ok=True)
            self._write_json(path, manifest)
        shard_mib = sum(x["bytes"] for x in packed["shards"]) / 2**20
        log(f"manifest: {manifest['totals']['bytes'] / 1e6:.1f} MB in {manifest['totals']['files']} files, "
            f"{len(packed['shards'])} shards, {shard_mib:.1f} MiB")
        if shard_mib > 58:
            log("NOTE: the shards together exceed what one GPU-machine call carries with the working tree "
                "(64 MiB in all): carry them over several calls, or build with a smaller --limit")


class ShardWriter:
    """Compressed JSONL shards (xz or gzip, both in the standard library), rolled over at `shard_bytes`
    compressed. xz makes code about 25-30% smaller than gzip, which matters when every file has to
    travel to the GPU machine under a 64 MiB-per-call limit."""

    def __init__(self, d, prefix, compress="xz", shard_bytes=32 << 20, xz_preset=6):
        self.d, self.prefix, self.i, self.compress, self.shard_bytes = d, prefix, 0, compress, shard_bytes
        self.xz_preset = xz_preset
        self.done = []
        self.fh = None

    def _open(self):
        name = f"{self.prefix}-{self.i:05d}.jsonl.{self.compress}"
        self.raw = open(os.path.join(self.d, name), "wb")
        if self.compress == "xz":
            self.fh = lzma.LZMAFile(self.raw, mode="wb", preset=self.xz_preset)
        else:
            self.fh = gzip.GzipFile(fileobj=self.raw, mode="wb", compresslevel=6, mtime=0)
        self.name, self.n = name, 0

    def write(self, rec):
        if self.fh is None:
            self._open()
        self.fh.write((json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8"))
        self.n += 1
        if self.raw.tell() >= self.shard_bytes:
            self._close_one()
            self.i += 1

    def _close_one(self):
        self.fh.close()
        self.raw.close()
        self.done.append({"file": os.path.join(os.path.basename(self.d), self.name), "docs": self.n,
                          "bytes": os.path.getsize(os.path.join(self.d, self.name))})
        self.fh = None

    def close(self):
        if self.fh is not None:
            self._close_one()
        return self.done


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sources", default="debian,npm", help="comma list of debian,npm,pysite")
    ap.add_argument("--lists", default=os.path.join(HERE, "lists"), help="folder with <source>.txt lists")
    ap.add_argument("--limit", type=parse_limit, default="0",
                    help="first N packages of each list (0: all); per source as in 2000,npm=3000")
    ap.add_argument("--whole", default="",
                    help="comma list of list categories (e.g. python) taken whole, beyond --limit")
    ap.add_argument("--site-dir", help="site-packages folder for the pysite source")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--evals", default=DEFAULT_EVALS)
    ap.add_argument("--manifest", default=os.path.join(HERE, "manifest.json"),
                    help="where the committed manifest copy goes ('' for none)")
    ap.add_argument("--stage", choices=["all", "process", "finalize"], default="all")
    ap.add_argument("--heldout-frac", type=float, default=0.03)
    ap.add_argument("--tokenizer", help="tokenizer.json: count real tokens (needs Python `tokenizers`)")
    ap.add_argument("--keep-cache", action="store_true", help="keep downloaded archives")
    ap.add_argument("--retry-failed", action="store_true", help="retry packages whose download failed")
    ap.add_argument("--no-decontam", action="store_true")
    ap.add_argument("--shard-mib", type=int, default=32,
                    help="compressed MiB per shard: one shard and the code travel in one GPU call (64 MiB)")
    ap.add_argument("--compress", choices=["xz", "gz"], default="xz", help="shard compression")
    ap.add_argument("--xz-preset", type=int, default=6, choices=range(10),
                    help="xz level: 2 packs about 7x faster than 6, into about 20%% larger shards")
    ap.add_argument("--split-from", action="append", default=[],
                    help="an earlier build's manifest.json: its packages keep their side (train or held-out) by name, "
                         "whatever their version now, so that a model trained on that build is never measured on what "
                         "it trained on; repeatable, oldest first (a model trained on several builds)")
    ap.add_argument("--seen-lists", metavar="DIR",
                    help="package lists (<source>.txt, the build's list format) naming what earlier models trained on: "
                         "the other train packages go into their own shards, train/fresh-NNNNN, deduplicated against "
                         "the seen ones, so that a continued run can weight what it has not seen")
    ap.add_argument("--fetch-threads", type=int, default=3, help="parallel downloads (network-bound)")
    ap.add_argument("--fetch-batch", type=int, default=10, help="npm packages per `npm pack` call")
    ap.add_argument("--part", type=parse_part, default=(0, 1), metavar="I/N",
                    help="stage 1 in N processes, one a core: this one processes the packages of part I (0-based)")
    args = ap.parse_args(argv)
    args.sources = [s for s in args.sources.split(",") if s]
    args.whole = {c for c in args.whole.split(",") if c}
    b = Builder(args)
    if args.stage in ("all", "process"):
        b.process_all()
    if args.stage in ("all", "finalize"):
        b.finalize()


if __name__ == "__main__":
    main()
