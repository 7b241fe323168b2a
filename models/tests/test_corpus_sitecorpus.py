"""The site corpus (corpus/sitecorpus.py): the installed-files sources and their license judge, then builds on
synthetic site folders and on this machine's own installed files (Debian's dist-packages, /usr/include) as the
stand-in for the GPU machine's, against a carried corpus and evaluation data made to overlap them."""
import collections
import fnmatch
import gzip
import json
import lzma
import os
import shutil

import pytest

from models.corpus import licenses, sitecorpus, sources
from models.corpus.installed import DpkgFiles
from models.scripts import prepare_tokens
from models.tests.test_corpus_pipeline import make_build_inputs, program

HERE = os.path.dirname(os.path.abspath(__file__))

TOKENIZER = os.path.join(HERE, "..", "ultramem-code-s", "tokenizer.json")
DIST_PACKAGES = "/usr/lib/python3/dist-packages"
NVIDIA_NOTICE = ("/*\n * Copyright 1993-2023 NVIDIA Corporation.  All rights reserved.\n *\n * NOTICE TO LICENSEE:\n"
                 " *\n * This source code and/or documentation (\"Licensed Deliverables\") are\n * subject to NVIDIA "
                 "intellectual property rights under U.S. and\n * international Copyright laws.\n */\n")
DEP5 = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: foo

Files: *
Copyright: 2020 A
License: Expat

Files: include/foo/internal/*
Copyright: 2020 B
License: GPL-2+

Files: tests/*
Copyright: 2020 C
License: GPL-3+
"""


def test_installed_files_are_judged_by_every_dep5_stanza_that_may_cover_them():
    d = licenses.Dep5(DEP5)
    assert d.licenses_for_installed("usr/include/foo/api.h") == {"Expat"}
    # the source path include/foo/internal/x.h is installed as usr/include/foo/internal/x.h
    assert d.licenses_for_installed("usr/include/foo/internal/x.h") == {"Expat", "GPL-2+"}
    # a stanza whose only folder is cut away (tests/* -> *) says nothing about an installed header
    assert d.licenses_for_installed("usr/include/tests.h") == {"Expat"}


def many_stanzas_dep5(n_libs):
    """A copyright file like boost's (36,736 patterns in 1,541 stanzas): stanzas that name single source files,
    folders with wildcards, and a few other licenses."""
    stanzas = [DEP5.split("\n\nFiles: include/foo")[0]]
    for i in range(n_libs):
        lic = ("GPL-2+", "MIT", "BSL-1.0", "BSL-1.0")[i % 4]
        stanzas.append(f"Files: libs/lib{i}/include/boost/lib{i}/detail/impl{i}.hpp boost/lib{i}/fwd.hpp\n"
                       f"  libs/lib{i}/src/*.cpp libs/lib{i}/include/boost/lib{i}/v?/* [ab]x{i}.h\n"
                       f"Copyright: {i}\nLicense: {lic}")
    return "\n\n".join(stanzas) + "\n"


def installed_paths(n_libs):
    return [f"usr/include/{p}" for i in range(n_libs) for p in (
        f"boost/lib{i}/detail/impl{i}.hpp", f"boost/lib{i}/fwd.hpp", f"boost/lib{i}/other.hpp",
        f"boost/lib{i}/v2/new.hpp", f"boost/lib{i}/v10/old.hpp", f"ax{i}.h", f"cx{i}.h", f"x86_64/boost/lib{i}/fwd.hpp")]


def covering_licenses(d, path):
    """licenses_for_installed's rule, pattern by pattern: a stanza counts when a pattern, or a tail of it that
    still names a folder, matches a tail of the path as f or f/*."""
    parts = path.strip("/").split("/")
    found = {d.header_license}
    for pats, lic in d.stanzas:
        for pat in pats:
            pp = pat.strip("/").split("/")
            forms = ({pat.strip("/")} | {"/".join(pp[i:]) for i in range(1, len(pp) - 1)}) - {"*"}
            if any(fnmatch.fnmatchcase("/".join(parts[i:]), g) for f in forms for g in (f, f + "/*")
                   for i in range(len(parts))):
                found.add(lic)
    return found


def test_installed_files_get_the_licenses_of_every_pattern_that_may_cover_them():
    d = licenses.Dep5(many_stanzas_dep5(12))
    found = {p: d.licenses_for_installed(p) for p in installed_paths(12)}
    assert found == {p: covering_licenses(d, p) for p in installed_paths(12)}
    assert found["usr/include/boost/lib0/fwd.hpp"] == {"Expat", "GPL-2+"}
    assert found["usr/include/x86_64/boost/lib1/fwd.hpp"] == {"Expat", "MIT"}
    assert found["usr/include/boost/lib1/v10/old.hpp"] == {"Expat"}
    # every stanza's tail `v?/*` still names a folder, which a v2/ of any library matches
    assert found["usr/include/boost/lib1/v2/new.hpp"] == {"Expat", "GPL-2+", "MIT", "BSL-1.0"}
    assert found["usr/include/ax4.h"] == {"Expat", "GPL-2+"} and found["usr/include/cx4.h"] == {"Expat"}


def pattern_calls(monkeypatch, judge, paths):
    """fnmatch calls made by a fresh Dep5 (boost-like copyright) judging `paths` with `judge(dep5, path)`."""
    calls = collections.Counter()
    for name in ("fnmatch", "fnmatchcase", "filter", "translate"):
        real = getattr(fnmatch, name)
        monkeypatch.setattr(fnmatch, name, lambda *a, _real=real, _name=name: calls.update([_name]) or _real(*a))
    d = licenses.Dep5(many_stanzas_dep5(40))
    for p in paths:
        judge(d, p)
    return sum(calls.values())


def test_installed_files_are_judged_without_matching_every_pattern_again_per_file(monkeypatch):
    """A unit of K files under a copyright of P patterns cost K x P fnmatch calls, each a regex compile once P
    passed fnmatch's cache: boost's headers took 24 s a file. The patterns are now read once per copyright."""
    judge = licenses.Dep5.licenses_for_installed
    paths = installed_paths(40)
    assert pattern_calls(monkeypatch, judge, paths) == pattern_calls(monkeypatch, judge, paths[:1])


def test_source_paths_get_the_license_of_the_last_stanza_that_matches_them():
    """license_for (the Debian source build's per-file check) with one regex per stanza, against DEP-5's rule
    pattern by pattern, and its patterns read once per copyright file, not once per file."""
    d = licenses.Dep5(many_stanzas_dep5(12))
    paths = [p.removeprefix("usr/include/") for p in installed_paths(12)] + [
        f"libs/lib{i}/{rest}" for i in range(12) for rest in (f"src/a{i}.cpp", f"include/boost/lib{i}/v3/x.hpp",
                                                               f"include/boost/lib{i}/detail/impl{i}.hpp", "README")]

    def last_matching(path):
        found = None
        for pats, lic in d.stanzas:
            if any(fnmatch.fnmatchcase(path, pat) or fnmatch.fnmatchcase(path, pat.rstrip("/") + "/*") for pat in pats):
                found = lic
        return found if found is not None else d.header_license

    expected = {p: last_matching(p) for p in paths}
    assert {p: d.license_for(p) for p in paths} == expected
    assert expected["libs/lib1/src/a1.cpp"] == "MIT" and expected["libs/lib1/README"] == d.header_license == "Expat"


def test_source_paths_are_judged_without_matching_every_pattern_again_per_file(monkeypatch):
    judge = licenses.Dep5.license_for
    paths = [f"libs/lib{i}/src/a.cpp" for i in range(40)]
    assert pattern_calls(monkeypatch, judge, paths) == pattern_calls(monkeypatch, judge, paths[:1])


def test_file_notices_and_python_license_files():
    assert licenses.notice_not_permissive(NVIDIA_NOTICE)
    assert licenses.notice_not_permissive("# This file is part of Foo.\n# Licensed under the GNU GPL v2\n")
    assert not licenses.notice_not_permissive("# Copyright 2020 A\n# SPDX-License-Identifier: MIT\nimport os\n")
    assert not licenses.notice_not_permissive("import matplotlib as mpl\n# a proprietary HTTP header\n"
                                              "# This license is approved by the OSI and FSF as GPL-compatible.\n")
    assert licenses.judge_expression("Apache License v2.0")[0]      # onnx's License field
    mit = "Permission is hereby granted, free of charge, to any person obtaining a copy of this software"
    v = licenses.judge_python_metadata("Name: demo\nLicense: UNKNOWN\nLicense-File: LICENSE\n\n", [mit])
    assert v["permissive"] and v["how"] == "license file text"
    assert not licenses.judge_python_metadata("Name: demo\n\n", [mit + "\nparts are GPL-2.0\n"])["permissive"]
    assert not licenses.judge_python_metadata("Name: demo\n\n", [])["permissive"]


def test_egg_info_distributions_and_pep639_license_files(tmp_path):
    site = tmp_path / "site"
    (site / "eggy").mkdir(parents=True)
    (site / "eggy" / "core.py").write_text(program(1))
    egg = site / "eggy-2.0.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: eggy\nVersion: 2.0\nLicense: BSD-3-Clause\n\n")
    (egg / "installed-files.txt").write_text("../eggy/core.py\nPKG-INFO\n")
    wheel = site / "modern-1.0.dist-info"
    (wheel / "licenses").mkdir(parents=True)
    (wheel / "METADATA").write_text("Metadata-Version: 2.4\nName: modern\nVersion: 1.0\nLicense-File: LICENSE\n\n")
    (wheel / "licenses" / "LICENSE").write_text("Copyright A\n\nPermission to use, copy, modify, and/or distribute "
                                                "this software for any purpose with or without fee is hereby granted")
    (wheel / "RECORD").write_text("")
    dists = sources.dist_infos(str(site))
    assert set(dists) == {"eggy", "modern"}
    src = sources.PySiteSource(None, str(site))
    meta, cands = src.read("eggy", dists["eggy"])
    assert meta["permissive"] and meta["version"] == "2.0" and [c.path for c in cands] == ["eggy/core.py"]
    meta, _ = src.read("modern", dists["modern"])
    assert meta["permissive"] and meta["license"] == "ISC"


def test_dpkg_files_are_judged_by_their_packages_copyright(tmp_path):
    docs = tmp_path / "doc"
    for pkg, text in [("libfoo-dev", DEP5), ("cuda-dev", "NVIDIA Software License Agreement\n" + NVIDIA_NOTICE)]:
        (docs / pkg).mkdir(parents=True)
        (docs / pkg / "copyright").write_text(text)
    inc = tmp_path / "usr" / "include" / "foo"
    (inc / "internal").mkdir(parents=True)
    header = "#pragma once\n" + "".join(f"int foo_function_{i}(int value_{i});\n" for i in range(10))
    for rel in ("api.h", "internal/x.h"):
        (inc / rel).write_text(header.replace("foo_", "foo_" + rel[:3]))
    paths = [str(inc / "api.h"), str(inc / "internal" / "x.h")]
    dpkg = DpkgFiles(str(docs))
    meta, cands = dpkg.read("libfoo-dev:amd64", paths, "1.0")
    assert meta["permissive"] and meta["license"] == "Expat"
    assert {c.path.rsplit("/", 2)[-2] + "/" + c.path.rsplit("/", 1)[-1]: c.reason for c in cands} == {
        "foo/api.h": None, "internal/x.h": "file_license"}
    for owners in ("cuda-dev", "libfoo-dev, cuda-dev", "libnothing-dev"):   # CUDA's license, or no copyright file
        meta, cands = dpkg.read(owners, paths)
        assert not meta["permissive"] and cands == []
    dpkg.have_dpkg = False
    groups, skipped = dpkg.owned([str(tmp_path / "usr" / "include")])
    assert groups == {} and skipped["no_dpkg"]["files"] == 2


def write_shard(path, texts):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with lzma.open(path, "wt", encoding="utf-8") as fh:
        for t in texts:
            fh.write(json.dumps({"text": t, "lang": "python", "source": "debian", "package": "carried"}) + "\n")


def add_distribution(site, name, files, license_line="License-Expression: MIT"):
    for rel, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(site, rel)), exist_ok=True)
        with open(os.path.join(site, rel), "w") as fh:
            fh.write(text)
    di = os.path.join(site, f"{name}-1.0.dist-info")
    os.makedirs(di)
    with open(os.path.join(di, "METADATA"), "w") as fh:
        fh.write(f"Metadata-Version: 2.4\nName: {name}\nVersion: 1.0\n{license_line}\n\n")
    with open(os.path.join(di, "RECORD"), "w") as fh:
        fh.write("".join(f"{r},,\n" for r in files))


def test_site_corpus_dedups_against_the_carried_corpus_and_tokenizes(tmp_path):
    site, _, evals = make_build_inputs(tmp_path)      # otherpkg/core.py is a copy of an evaluation task
    second = tmp_path / "env2"
    shutil.copytree(site / "goodpkg-1.0.dist-info", second / "goodpkg-1.0.dist-info")   # the same release again
    near = program(700).replace("    return x\n", "    return -x\n")
    add_distribution(str(second), "newpkg", {"newpkg/__init__.py": program(500),
                                             "newpkg/again.py": program(500).replace("return x", "return x + 1"),
                                             "newpkg/carried.py": program(600),
                                             "newpkg/near.py": near, "newpkg/held.py": program(800),
                                             "newpkg/cuda_like.h": NVIDIA_NOTICE + program(900)})
    add_distribution(str(second), "broken", {})
    os.remove(second / "broken-1.0.dist-info" / "RECORD")
    os.mkdir(second / "broken-1.0.dist-info" / "RECORD")      # unreadable: recorded, the build goes on
    (tmp_path / "include").mkdir()
    (tmp_path / "include" / "orphan.h").write_text("int orphan_function(int value);\n" * 3)
    carried = tmp_path / "carried"
    write_shard(str(carried / "part1" / "train" / "train-00000.jsonl.xz"), [program(600), program(700)])
    write_shard(str(carried / "heldout" / "python-00000.jsonl.xz"), [program(800)])
    out = tmp_path / "shards" / "site"
    m = sitecorpus.main(["--out", str(out), "--work", str(tmp_path / "work"), "--evals", str(evals),
                         "--carried", str(carried / "part*" / "train" / "*.jsonl.xz"),
                         "--carried", str(carried / "heldout" / "*.jsonl.xz"), "--site-dir", str(site),
                         "--site-dir", str(second), "--include-dir", str(tmp_path / "include"), "--workers", "2"])
    removed = {k: v["files"] for k, v in m["removed"].items() if v["files"]}
    assert removed == {"eval_contamination": 1, "exact_duplicate": 1, "exact_duplicate_of_carried": 2,
                       "near_duplicate_of_carried": 1, "near_duplicate": 1, "file_license": 1, "not_permissive": 2,
                       "same_distribution_in_another_environment": 1,
                       "no_dpkg_owner" if DpkgFiles().have_dpkg else "no_dpkg": 1}
    assert m["removed"]["eval_contamination"]["examples"] == ["pysite:otherpkg:otherpkg/core.py"]
    assert m["units"]["pysite:newpkg"]["license"] == "MIT" and m["units"]["pysite:gplpkg"]["status"] == "not_permissive"
    assert m["units"]["pysite:broken"]["status"] == "read_error"
    assert m["totals"]["files"] == 5 and m["totals"]["by_lang"]["python"]["files"] == 5
    with open(out / "manifest.json") as fh:
        assert json.load(fh)["totals"] == m["totals"]
    docs = [json.loads(line) for s in m["shards"] for line in lzma.open(out / s["file"], "rt")]
    # copycat/core.py and goodpkg/core.py are the same file: the first distribution (by name) keeps it
    assert sorted(d["path"] for d in docs) == ["copycat/__init__.py", "copycat/core.py", "goodpkg/__init__.py",
                                               "newpkg/__init__.py", "otherpkg/__init__.py"]
    assert {"text", "lang", "source", "package", "version", "path", "license"} <= set(docs[0])
    tokens = tmp_path / "tokens" / "partsite"
    prepare_tokens.main(["--tokenizer", TOKENIZER, "--shards", str(out), "--out", str(tokens)])
    assert json.load(open(tokens / "tokens.json"))["files"]["train.bin"]["documents"] == 5


@pytest.mark.skipif(not os.path.isdir(os.path.join(DIST_PACKAGES, "attr")) or not DpkgFiles().have_dpkg
                    or not os.path.isfile("/usr/include/brotli/decode.h"), reason="needs Debian's python3-attr, "
                    "libbrotli-dev and dpkg (the development machine's image)")
def test_site_corpus_from_this_machines_installed_files(tmp_path):
    """attrs from Debian's dist-packages and two folders of /usr/include (libbrotli-dev: MIT; uuid-dev: GPL):
    the carried copies of two of their files, and an evaluation task copied from a third, are dropped."""
    read = lambda p: open(p, encoding="utf-8").read()   # noqa: E731
    carried = tmp_path / "carried"
    write_shard(str(carried / "part1" / "train" / "train-00000.jsonl.xz"),
                [read(f"{DIST_PACKAGES}/attr/validators.py"), read("/usr/include/brotli/decode.h")])
    evals = tmp_path / "evals" / "human-eval-infilling"
    evals.mkdir(parents=True)
    with gzip.open(evals / "HumanEval-SingleLineInfilling.jsonl.gz", "wt") as fh:
        fh.write(json.dumps({"task_id": "t/0", "prompt": read(f"{DIST_PACKAGES}/attr/converters.py"),
                             "canonical_solution": "", "suffix": "", "test": ""}) + "\n")
    m = sitecorpus.main(["--out", str(tmp_path / "site"), "--work", str(tmp_path / "work"), "--evals",
                         str(tmp_path / "evals"), "--carried", str(carried / "part*" / "train" / "*.jsonl.xz"),
                         "--site-dir", DIST_PACKAGES, "--dists", "attrs,libbrotli-dev*,uuid-dev*",
                         "--include-dir", "/usr/include/brotli", "--include-dir", "/usr/include/uuid",
                         "--workers", "2"])
    status = {k.split(":")[1]: v["status"] for k, v in m["units"].items()}   # dpkg:libbrotli-dev:amd64
    assert status == {"attrs": "ok", "libbrotli-dev": "ok", "uuid-dev": "not_permissive"}
    assert m["removed"]["exact_duplicate_of_carried"]["files"] == 2
    assert m["removed"]["eval_contamination"]["examples"] == ["pysite:attrs:attr/converters.py"]
    assert m["totals"]["by_lang"]["python"]["files"] > 10 and m["totals"]["by_lang"]["c"]["files"] == 3
