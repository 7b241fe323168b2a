"""The corpus manifest (manifest.json) that build.py's finalize writes: per source its packages with their
status, license and split, and the licenses counted; files and bytes removed per reason (with example paths for
the audited ones); totals per language and split; the throughput of each stage and of each process run; the
decontamination settings; the shards."""
import json
import os
import sys
import time

from . import decontam

AUDITED = ("eval_contamination", "secrets", "file_license")   # the manifest lists example paths for these


def read_runs(work):
    """The process runs recorded in <work>/runs.jsonl, each with its wall-clock throughput."""
    p = os.path.join(work, "runs.jsonl")
    runs = [json.loads(l) for l in open(p)] if os.path.exists(p) else []
    for r in runs:
        w = r.get("wall_s") or 0
        r["wall_MB_per_min_text_read"] = round(r["candidate_bytes"] / 1e6 / (w / 60), 1) if w else None
        r["wall_MB_per_min_kept"] = round(r["kept_bytes"] / 1e6 / (w / 60), 1) if w else None
    return runs


def _package_entry(st, sides):
    entry = {"status": st["status"], "version": st.get("version"), "license": st.get("license"),
             "license_how": st.get("license_how")}
    if st["status"] == "ok":
        entry["split"] = sides.get(f"{st['source']}:{st['package']}", "empty")
        entry["kept_bytes"] = sum(v["bytes"] for v in st.get("kept", {}).values())
        entry["kept_files"] = sum(v["files"] for v in st.get("kept", {}).values())
        entry["langs"] = sorted(st.get("kept", {}), key=lambda l: -st["kept"][l]["bytes"])[:3]
    if "error" in st:
        entry["error"] = st["error"][-160:]
    return entry


def _per_package(all_stats, sides):
    """From the packages' stats: the sources with their packages, what the per-package filters removed, and the
    summed stage times and bytes."""
    sources = {}
    removed = {}
    tsum = {"fetch": 0.0, "read": 0.0, "filter": 0.0}
    bsum = {"raw": 0, "candidate": 0}
    for st in all_stats:
        src = sources.setdefault(st["source"], {"packages": {}, "status": {}})
        src["status"][st["status"]] = src["status"].get(st["status"], 0) + 1
        src["packages"][st["package"]] = _package_entry(st, sides)
        for r, v in st.get("removed", {}).items():
            acc = removed.setdefault(r, {"files": 0, "bytes": 0})
            acc["files"] += v["files"]
            acc["bytes"] += v["bytes"]
            if r in AUDITED and len(acc.setdefault("examples", [])) < 20:
                acc["examples"] += [f"{st['source']}:{st['package']}:{p}" for p in v.get("examples", [])][:2]
        for k in tsum:
            tsum[k] += st.get("times", {}).get(k, 0.0)
        bsum["raw"] += st.get("raw_bytes", 0) or 0
        bsum["candidate"] += st.get("candidate_bytes", 0) or 0
    for src in sources.values():
        lic = {}
        for e in src["packages"].values():
            if e["status"] in ("ok", "not_permissive"):
                key = e["license"] or "unknown"
                lic.setdefault(key, {"packages": 0, "permissive": e["status"] == "ok"})["packages"] += 1
        src["licenses"] = dict(sorted(lic.items(), key=lambda kv: -kv[1]["packages"]))
    return sources, removed, tsum, bsum


def _removed_globally(by_lang):
    """Files and bytes a global stage (decontamination, dedup) removed, in all and per language."""
    return {"files": sum(v["files"] for v in by_lang.values()), "bytes": sum(v["bytes"] for v in by_lang.values()),
            "by_lang": by_lang}


def _totals(out_stats):
    totals = {}
    for langs in out_stats.values():
        for l, v in langs.items():
            t = totals.setdefault(l, {"files": 0, "bytes": 0})
            t["files"] += v["files"]
            t["bytes"] += v["bytes"]
    return totals


def _mbmin(nbytes, secs):
    return round(nbytes / 1e6 / (secs / 60), 1) if secs > 0 else None


def _throughput(tsum, bsum, timing, n_files, total_bytes):
    return {
        "fetch_s": round(tsum["fetch"], 1), "fetch_MB_per_min_compressed": _mbmin(bsum["raw"], tsum["fetch"]),
        "read_s": round(tsum["read"], 1), "read_MB_per_min_text": _mbmin(bsum["candidate"], tsum["read"]),
        "filter_s": round(tsum["filter"], 1),
        "filter_MB_per_min_text": _mbmin(bsum["candidate"], tsum["filter"]),
        "dedup_s": round(timing["exact_dedup_s"] + timing["near_dedup_s"], 1),
        "decontam_verdict_s": round(timing["decontam_s"], 1),
        "dedup_files": n_files,
        "pack_s": round(timing["pack_s"], 1), "pack_MB_per_min_text": _mbmin(total_bytes, timing["pack_s"]),
        "raw_compressed_bytes": bsum["raw"], "candidate_text_bytes": bsum["candidate"],
    }


def manifest_of(args, all_stats, sides, packed, exact_by_lang, near_by_lang, timing, n_files,
                contam_by_lang, contam_examples, runs):
    """The manifest of a build: `args` its options, `all_stats` the packages' stats, `sides` their splits,
    `packed` what pack() wrote, `*_by_lang` what the global stages removed, `runs` from read_runs()."""
    sources, removed, tsum, bsum = _per_package(all_stats, sides)
    removed["eval_contamination"] = {**_removed_globally(contam_by_lang), "examples": contam_examples}
    removed["exact_duplicate"] = _removed_globally(exact_by_lang)
    removed["near_duplicate"] = _removed_globally(near_by_lang)
    out_stats = packed["stats"]
    totals = _totals(out_stats)
    total_bytes = sum(v["bytes"] for v in totals.values())
    return {
        "format": "ultramem-corpus", "version": 1,
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join(sys.argv),
        "limit_per_source": args.limit,
        "whole_categories": sorted(args.whole),
        "heldout_frac": args.heldout_frac,
        "totals": {"files": sum(v["files"] for v in totals.values()), "bytes": total_bytes,
                   "tokens_estimated": round(total_bytes / 4) if not packed["tokenizer"] else None,
                   "by_lang": dict(sorted(totals.items(), key=lambda kv: -kv[1]["bytes"]))},
        "splits": out_stats,
        "removed": dict(sorted(removed.items(), key=lambda kv: -kv[1]["bytes"])),
        "throughput": _throughput(tsum, bsum, timing, n_files, total_bytes),
        "process_runs": runs,
        "decontamination": {"evals": "shared/evals (human-eval-infilling, SAFIM)",
                            "ngram_tokens": decontam.NGRAM, "min_hits": decontam.MIN_HITS,
                            "min_strict_hits": decontam.MIN_STRICT_HITS,
                            "min_words_per_ngram": decontam.MIN_WORDS, "boilerplate_df": decontam.COMMON_DF,
                            "corpus_boilerplate_packages": [decontam.CORPUS_DF, decontam.CORPUS_DF_ANY]},
        "shards_total_mib": round(sum(x["bytes"] for x in packed["shards"]) / 2**20, 1),
        "shards": packed["shards"],
        "sources": sources,
    }
