"""The site corpus: a second training corpus built on the GPU machine from the sources installed there (every
Python environment's site-packages, and the C/C++ files under /usr/include and /usr/local/include judged per
owning Debian package), so they need no carrying. Nothing in it repeats a file of the carried corpus (train or
held-out shards), exactly or nearly, and no file is contaminated with the evaluation sets.

    python3 -m models.corpus.sitecorpus --out /tmp/um/shards/site --work /tmp/um/sitecorpus --evals /tmp/um/evals \
        --carried '/tmp/um/shards/part*/train/*.jsonl.xz' --carried '/tmp/um/shards/heldout/*.jsonl.xz'

Steps, each spread over --workers processes: (1) per package (a Python distribution or a Debian package's
installed headers): license, per-file filters (filters.py, as the main build), each file's own license notice,
exact key, MinHash signature and evaluation n-grams; (2) the exact keys and signatures of every carried shard
(cached in --work); (3) decontamination verdicts (decontam.py, with the corpus boilerplate discount over this
corpus), exact dedup against the carried keys and within, near dedup (dedup.py's LSH) over carried and new
signatures together, the carried rows first so that a cluster that holds a carried file keeps that one; (4) xz
JSONL train shards in the build's format under <out>/train/ and <out>/manifest.json. README.md says more.
"""
import argparse
import fnmatch
import glob
import gzip
import json
import lzma
import multiprocessing
import os
import re
import shutil
import sys
import time

import numpy as np

from . import dedup, decontam, licenses
from .build import LANG_CODE, ShardWriter, _add, filter_package, log
from .decontam import DecontamIndex
from .installed import INCLUDE_DIRS, DpkgFiles, site_dirs
from .langs import ALL_LANGS, language_of
from .sources import PySiteSource, dist_infos, metadata_path, safe_name

BYTES_PER_TOKEN = 3.60   # the shipped tokenizer on the main corpus's train shard (README.md): an estimate
NOTICE_CHARS = 3000      # a file's license notice sits in its first lines

_decon = None            # the evaluation index, built before the workers fork (they share it, copy-on-write)


# ------------------------------------------------------------------------------ step 1: what is installed

def find_units(site_list, include_dirs, dists):
    """The units of work in priority order, and the files skipped before any is read. A unit is
    (source, name, version, args): ("pysite", dist, version, (site_dir, dist-info)) or ("dpkg", owners, version,
    paths). A distribution installed in several environments is read once per version."""
    units, skipped = [], {}
    seen = {}
    for sd in site_list:
        for dist, di in sorted(dist_infos(sd).items()):
            if dists and not any(fnmatch.fnmatch(dist, pat) for pat in dists):
                continue
            meta = open(metadata_path(di), encoding="utf-8", errors="replace").read(20000)
            version = (re.findall(r"^Version:\s*(\S+)", meta, re.M) or [None])[0]
            if (dist, version) in seen:
                _add(skipped, "same_distribution_in_another_environment", 0, f"{sd}:{dist}")
                continue
            name = dist if not any(d == dist for d, _ in seen) else f"{dist}=={version}"
            seen[(dist, version)] = sd
            units.append(("pysite", name, version, (sd, di)))
    if include_dirs:
        dpkg = DpkgFiles()
        groups, skipped_files = dpkg.owned(include_dirs)
        skipped.update(skipped_files)
        versions = dpkg.versions() if groups else {}
        for owners, paths in sorted(groups.items()):
            if dists and not any(fnmatch.fnmatch(owners, pat) for pat in dists):
                continue
            units.append(("dpkg", owners, versions.get(owners.split(", ")[0]), paths))
    return units, skipped


def size_hint(unit):
    """About how much a unit has to read: its number of files."""
    source, _, _, args = unit
    try:
        return len(args) if source == "dpkg" else len(PySiteSource(None, args[0]).files_of(args[1]))
    except OSError:      # the worker meets it again and records it
        return 0


def read_unit(source, name, version, args):
    """(meta, candidates, the files it installs) of a unit."""
    if source == "pysite":
        site_dir, di = args
        reader = PySiteSource(None, site_dir)
        meta, cands = reader.read(name, di)
        return meta, cands, [os.path.join(site_dir, r) for r in reader.files_of(di)]
    meta, cands = DpkgFiles().read(name, args, version)
    return meta, cands, args


def process_unit(job):
    """One unit -> its stats and per-file arrays; the kept texts go to <work>/docs/<source>/<name>.jsonl.gz."""
    i, (source, name, version, args), work = job
    t = time.time()
    try:
        meta, cands, considered = read_unit(source, name, version, args)
        status = "ok" if meta["permissive"] else "not_permissive"
    except Exception as e:  # noqa: BLE001 (one unreadable unit must not stop a build that runs unattended)
        meta, cands, considered = {"permissive": False, "license_how": f"read error: {e!r}"[:300]}, [], []
        status = "read_error"
    for c in cands:       # a vendor's or a copyleft header inside a permissive package
        if c.reason is None and licenses.notice_not_permissive(c.data[:NOTICE_CHARS].decode("utf-8", "replace")):
            c.reason, c.data = "file_license", None
    docs, removed, _ = filter_package(cands, _decon, source)
    if not meta["permissive"]:
        for p in considered:
            if language_of(p) is not None and os.path.isfile(p):
                _add(removed, "not_permissive", os.path.getsize(p))
    docs_path = os.path.join(work, "docs", source, safe_name(name) + ".jsonl.gz")
    os.makedirs(os.path.dirname(docs_path), exist_ok=True)
    with gzip.open(docs_path, "wt", encoding="utf-8", compresslevel=1) as fh:
        for d in docs:
            fh.write(json.dumps({"path": d["path"], "lang": d["lang"], "text": d["text"]}, ensure_ascii=False) + "\n")
    return {"i": i, "source": source, "name": name, "version": version, "license": meta.get("license"),
            "license_how": meta.get("license_how"), "status": status, "removed": removed,
            "docs_path": docs_path, "seconds": round(time.time() - t, 2),
            "keys": b"".join(d["key"] for d in docs),
            "sigs": np.stack([d["sig"] for d in docs]) if docs else np.zeros((0, dedup.NUM_PERM), np.uint32),
            "langs": np.array([LANG_CODE[d["lang"]] for d in docs], np.uint8),
            "bytes": np.array([d["bytes"] for d in docs], np.int64),
            "paths": [d["path"] for d in docs], "ev": [d["ev"] for d in docs]}


# ------------------------------------------------------------------------------ step 2: the carried corpus

def carried_tasks(patterns, workers):
    """(shard, k, n) tasks: every n-th document of a shard from the k-th, so that a few large shards still
    keep every worker busy (each task decompresses its shard again: cheap next to the signatures)."""
    shards = sorted({p for pat in patterns for p in glob.glob(pat)})
    tasks = []
    for s in shards:
        n = workers if os.path.getsize(s) > (4 << 20) else 1
        tasks += [(s, k, n) for k in range(n)]
    return shards, tasks


def carried_signatures(job):
    """Exact keys and MinHash signatures of one slice of a carried shard, cached in <work>/carried/."""
    (shard, k, n), work = job
    st = os.stat(shard)
    cache = os.path.join(work, "carried", f"{safe_name(os.path.relpath(shard, '/'))}-{st.st_size}-{k}of{n}.npz")
    if os.path.exists(cache):
        z = np.load(cache)
        return z["keys"], z["sigs"]
    keys, sigs = [], []
    with lzma.open(shard, "rt", encoding="utf-8") as fh:
        for j, line in enumerate(fh):
            if j % n == k:
                text = json.loads(line)["text"]
                keys.append(dedup.exact_key(text))
                sigs.append(dedup.minhash(text))
    keys = np.frombuffer(b"".join(keys), dtype="V16") if keys else np.zeros(0, "V16")
    sigs = np.stack(sigs) if sigs else np.zeros((0, dedup.NUM_PERM), np.uint32)
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    with open(cache + ".tmp", "wb") as fh:
        np.savez(fh, keys=keys, sigs=sigs)
    os.replace(cache + ".tmp", cache)
    return keys, sigs


# ------------------------------------------------------------------------------ step 3: verdicts

def verdicts(results, carried_keys, carried_sigs):
    """Per new file, the reason it goes ("": kept), in this order: eval_contamination,
    exact_duplicate_of_carried, exact_duplicate, near_duplicate_of_carried, near_duplicate."""
    keys = np.frombuffer(b"".join(r["keys"] for r in results), dtype="V16")
    n = len(keys)
    reason = np.full(n, "", dtype="<U26")
    ev_lists, ev_doc, ev_unit, base = [], [], [], 0
    for u, r in enumerate(results):
        for j, m in enumerate(r["ev"]):
            if len(m):
                ev_lists.append(m)
                ev_doc.append(base + j)
                ev_unit.append(u)
        base += len(r["ev"])
    if ev_lists:
        flags = decontam.contaminated(ev_lists, ev_unit, _decon)
        reason[np.asarray(ev_doc, np.int64)[flags]] = "eval_contamination"
    live = np.nonzero(reason == "")[0]
    reason[live[np.isin(keys[live], carried_keys)]] = "exact_duplicate_of_carried"
    live = np.nonzero(reason == "")[0]
    first = np.zeros(n, bool)
    first[live[np.unique(keys[live], return_index=True)[1]]] = True
    reason[live[~first[live]]] = "exact_duplicate"
    sigs = np.concatenate([carried_sigs] + [r["sigs"] for r in results])
    alive = np.concatenate([np.ones(len(carried_sigs), bool), reason == ""])
    idx, roots = dedup.near_duplicate_roots(sigs, alive)
    nc = len(carried_sigs)
    new = (idx >= nc) & (roots != idx)
    reason[idx[new & (roots < nc)] - nc] = "near_duplicate_of_carried"
    reason[idx[new & (roots >= nc)] - nc] = "near_duplicate"
    return reason


# ------------------------------------------------------------------------------ step 4: shards, manifest

def pack_group(job):
    """Write one group of units' kept files as train-gGG-NNNNN.jsonl.xz; returns (shards, bytes and files per
    language)."""
    g, entries, train_dir, shard_bytes = job
    w = ShardWriter(train_dir, f"train-g{g:02d}", "xz", shard_bytes)
    per_lang = {}
    for r, keep in entries:
        with gzip.open(r["docs_path"], "rt", encoding="utf-8") as fh:
            for line, k in zip(fh, keep):
                if not k:
                    continue
                d = json.loads(line)
                w.write({"text": d["text"], "lang": d["lang"], "source": r["source"], "package": r["name"],
                         "version": r["version"], "path": d["path"], "license": r["license"]})
                _add(per_lang, d["lang"], len(d["text"].encode("utf-8")))
    return w.close(), per_lang


def groups_by_bytes(results, reason, n_groups):
    """Units in order, cut into up to n_groups runs of about equal kept bytes."""
    entries, base = [], 0
    for r in results:
        keep = reason[base:base + len(r["bytes"])] == ""
        base += len(r["bytes"])
        if keep.any():   # what the packing needs of the unit (not its signatures)
            unit = {k: r[k] for k in ("docs_path", "source", "name", "version", "license")}
            entries.append((unit, keep, int(r["bytes"][keep].sum())))
    total = sum(e[2] for e in entries) or 1
    groups, acc = [[] for _ in range(n_groups)], 0
    for r, keep, nb in entries:
        groups[min(n_groups - 1, acc * n_groups // total)].append((r, keep))
        acc += nb
    return [g for g in groups if g]


def manifest_of(args, results, reason, skipped, shards, per_lang, n_carried, timing):
    """manifest.json: per unit its license and what it kept, files and bytes removed per reason, totals per language."""
    removed = dict(skipped)
    units = {}
    for r in results:
        for k, v in r["removed"].items():
            acc = removed.setdefault(k, {"files": 0, "bytes": 0})
            acc["files"] += v["files"]
            acc["bytes"] += v["bytes"]
            if k in ("file_license", "secrets") and len(acc.setdefault("examples", [])) < 20:
                acc["examples"] += [f"{r['source']}:{r['name']}:{p}" for p in v.get("examples", [])][:2]
        units[f"{r['source']}:{r['name']}"] = {
            "version": r["version"], "license": r["license"], "license_how": r["license_how"],
            "status": r["status"]}
    paths = [f"{r['source']}:{r['name']}:{p}" for r in results for p in r["paths"]]
    langs = np.concatenate([r["langs"] for r in results]) if results else np.zeros(0, np.uint8)
    nbytes = np.concatenate([r["bytes"] for r in results]) if results else np.zeros(0, np.int64)
    base = 0
    for r in results:
        keep = reason[base:base + len(r["bytes"])] == ""
        u = units[f"{r['source']}:{r['name']}"]
        u.update(kept_files=int(keep.sum()), kept_bytes=int(r["bytes"][keep].sum()))
        base += len(r["bytes"])
    for why in ("eval_contamination", "exact_duplicate_of_carried", "exact_duplicate", "near_duplicate_of_carried",
                "near_duplicate"):
        m = reason == why
        entry = removed[why] = {"files": int(m.sum()), "bytes": int(nbytes[m].sum()), "by_lang": {
            ALL_LANGS[c]: int(nbytes[m & (langs == c)].sum()) for c in np.unique(langs[m])}}
        if why == "eval_contamination":
            entry["examples"] = [paths[i] for i in np.nonzero(m)[0][:20]]
    lic = {}
    for u in units.values():
        e = lic.setdefault(u["license"] or "unknown", {"units": 0, "permissive": u["status"] == "ok"})
        e["units"] += 1
    total = sum(v["bytes"] for v in per_lang.values())
    return {
        "format": "ultramem-site-corpus", "version": 1,
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "command": " ".join(sys.argv),
        "site_dirs": args.site_dir, "include_dirs": args.include_dir, "carried_files": n_carried,
        "totals": {"files": sum(v["files"] for v in per_lang.values()), "bytes": total,
                   "tokens_estimated": round(total / BYTES_PER_TOKEN),
                   "by_lang": {k: dict(v, tokens_estimated=round(v["bytes"] / BYTES_PER_TOKEN))
                               for k, v in sorted(per_lang.items(), key=lambda kv: -kv[1]["bytes"])}},
        "removed": dict(sorted(removed.items(), key=lambda kv: -kv[1]["bytes"])),
        "decontamination": {"index_ngrams": len(_decon.hashes), "eval_texts": _decon.n_texts},
        "timing_s": {k: round(v, 1) for k, v in timing.items()}, "workers": args.workers,
        "shards": sorted(shards, key=lambda s: s["file"]), "licenses": lic,
        "units": dict(sorted(units.items())),
    }


def main(argv=None):
    global _decon
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="part folder: shards go to <out>/train/, and manifest.json")
    ap.add_argument("--work", required=True, help="scratch: kept texts per unit, cached carried signatures")
    ap.add_argument("--evals", required=True, help="the evaluation sets (a copy of shared/evals)")
    ap.add_argument("--carried", action="append", default=[],
                    help="glob of carried shards to dedup against (repeatable; quote it)")
    ap.add_argument("--site-dir", action="append", help="site-packages folder (repeatable; default: every "
                    "environment found, installed.site_dirs)")
    ap.add_argument("--include-dir", action="append",
                    help=f"folder of C/C++ files judged through dpkg (repeatable; default {' '.join(INCLUDE_DIRS)}; "
                         "'' for none)")
    ap.add_argument("--dists", default="", help="only these distributions / Debian packages (comma list of globs)")
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--shard-mib", type=int, default=64, help="compressed MiB per shard (they do not travel)")
    args = ap.parse_args(argv)
    args.site_dir = args.site_dir if args.site_dir is not None else site_dirs()
    args.site_dir = [d for d in args.site_dir if d]
    args.include_dir = [d for d in (args.include_dir if args.include_dir is not None else INCLUDE_DIRS) if d]
    texts = decontam.eval_texts(args.evals) if os.path.isdir(args.evals) else []
    if not texts:
        sys.exit(f"no evaluation data in {args.evals}: the site corpus is never built without decontamination")
    timing = {}
    t = time.time()
    _decon = DecontamIndex.from_texts(texts)
    timing["decontam_index"] = time.time() - t
    log(f"evaluation index: {len(_decon.hashes)} n-grams from {_decon.n_texts} texts")
    t = time.time()
    units, skipped = find_units(args.site_dir, args.include_dir, [p for p in args.dists.split(",") if p])
    timing["find"] = time.time() - t
    log(f"{len(units)} units from {len(args.site_dir)} site folders and {args.include_dir}; skipped before reading: "
        f"{ {k: v['files'] for k, v in skipped.items()} }")
    shards, tasks = carried_tasks(args.carried, args.workers)
    if args.carried and not shards:
        sys.exit(f"no carried shards match {args.carried}")
    train_dir = os.path.join(args.out, "train")
    shutil.rmtree(train_dir, ignore_errors=True)
    os.makedirs(train_dir)
    with multiprocessing.get_context("fork").Pool(args.workers) as pool:
        t = time.time()
        carried = pool.map(carried_signatures, [(task, args.work) for task in tasks], chunksize=1)
        carried_keys = np.concatenate([c[0] for c in carried]) if carried else np.zeros(0, "V16")
        carried_sigs = np.concatenate([c[1] for c in carried]) if carried else np.zeros((0, dedup.NUM_PERM), np.uint32)
        timing["carried_signatures"] = time.time() - t
        log(f"carried: {len(carried_keys)} files in {len(shards)} shards, {timing['carried_signatures']:.0f}s")
        t = time.time()
        results = []
        # the largest units first, so that no worker is left with torch at the end
        order = sorted(range(len(units)), key=lambda i: -size_hint(units[i]))
        for r in pool.imap_unordered(process_unit, [(i, units[i], args.work) for i in order]):
            results.append(r)
            log(f"[{len(results)}/{len(units)}] {r['source']}:{r['name']} license={r['license']!r} "
                f"kept {len(r['paths'])} files, {r['bytes'].sum() / 1e6:.2f} MB ({r['seconds']}s)")
        results.sort(key=lambda r: r["i"])
        timing["process"] = time.time() - t
        t = time.time()
        reason = verdicts(results, carried_keys, carried_sigs)
        timing["dedup_decontam"] = time.time() - t
        t = time.time()
        packed = pool.map(pack_group, [(g, entries, train_dir, args.shard_mib << 20) for g, entries in
                                       enumerate(groups_by_bytes(results, reason, args.workers))], chunksize=1)
        timing["pack"] = time.time() - t
    per_lang = {}
    for _, langs in packed:
        for lang, v in langs.items():
            acc = per_lang.setdefault(lang, {"files": 0, "bytes": 0})
            acc["files"] += v["files"]
            acc["bytes"] += v["bytes"]
    manifest = manifest_of(args, results, reason, skipped, [s for sh, _ in packed for s in sh], per_lang,
                           len(carried_keys), timing)
    with open(os.path.join(args.out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
    log(f"site corpus: {manifest['totals']['files']} files, {manifest['totals']['bytes'] / 1e6:.1f} MB, about "
        f"{manifest['totals']['tokens_estimated'] / 1e6:.1f}M tokens in {len(manifest['shards'])} shards; removed "
        f"{ {k: v['files'] for k, v in manifest['removed'].items()} }")
    return manifest


if __name__ == "__main__":
    main()
