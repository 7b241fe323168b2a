"""Corpus pipeline end to end on synthetic inputs, no network: the three source readers, then the build
(site-packages source) with its resumability, shards, split and manifest."""
import gzip
import io
import json
import lzma
import random
import tarfile

from models.corpus import build, sources


def program(seed, n=40):
    rng = random.Random(seed)
    body = "\n".join(f"    v{i} = helper_{rng.randint(0, 99)}(arg_{i}, {rng.randint(0, 9999)})" for i in range(n))
    return f"def func_{seed}(x):\n{body}\n    return x\n"


def make_tar(path, files, mode="w:gz"):
    with tarfile.open(path, mode) as tf:
        for name, text in files.items():
            data = text.encode("utf-8") if isinstance(text, str) else text
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))


def test_npm_reader(tmp_path):
    d = tmp_path / "pkg"
    d.mkdir()
    make_tar(d / "demo-1.0.0.tgz", {
        "package/package.json": json.dumps({"name": "demo", "version": "1.0.0", "license": "MIT"}),
        "package/src/index.ts": "export function add(a: number, b: number): number {\n  return a + b;\n}\n" * 3,
        "package/dist/index.js": "function add(a, b) { return a + b; }\nmodule.exports = { add };\n" * 3,
        "package/node_modules/x/index.js": "module.exports = 1;\n" * 5,
        "package/logo.png": b"\x89PNG\r\n\x1a\n\x00\x00",
    })
    meta, cands = sources.NpmSource(str(tmp_path)).read("demo@1.0.0", str(d))
    assert meta["permissive"] and meta["license"] == "MIT" and meta["version"] == "1.0.0"
    by = {c.path: c.reason for c in cands}
    assert by["src/index.ts"] is None
    assert by["dist/index.js"] == "compiled_output"
    assert by["node_modules/x/index.js"] == "vendored"
    assert "logo.png" not in by


def test_npm_reader_rejects_gpl(tmp_path):
    d = tmp_path / "pkg"
    d.mkdir()
    make_tar(d / "g-1.0.0.tgz", {"package/package.json": json.dumps({"name": "g", "license": "GPL-3.0"}),
                                 "package/index.js": "module.exports = 1;\n" * 5})
    meta, cands = sources.NpmSource(str(tmp_path)).read("g", str(d))
    assert not meta["permissive"] and cands == []


DEP5 = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
Copyright: 2020 A
License: BSD-3-clause

Files: gpl/*
Copyright: 2020 B
License: GPL-2+
"""


def test_debian_reader_source_mode(tmp_path):
    d = tmp_path / "demo"
    d.mkdir()
    make_tar(d / "demo_1.0.orig.tar.gz", {"demo-1.0/src/a.c": "int main(void) {\n  return 0;\n}\n" * 5,
                                          "demo-1.0/gpl/b.c": "int f(void) {\n  return 1;\n}\n" * 5,
                                          "demo-1.0/vendor/z.c": "int z;\n" * 10})
    make_tar(d / "demo_1.0-1.debian.tar.xz", {"debian/copyright": DEP5, "debian/rules": "#!/usr/bin/make -f\n"},
             mode="w:xz")
    (d / "demo_1.0-1.dsc").write_text("Format: 3.0 (quilt)\nSource: demo\nBinary: demo\nVersion: 1.0-1\nFiles:\n"
                                      " 0 1 demo_1.0.orig.tar.gz\n 0 1 demo_1.0-1.debian.tar.xz\n")
    meta, cands = sources.DebianSource(str(tmp_path)).read("demo", str(d))
    assert meta["permissive"] and meta["mode"] == "source" and meta["version"] == "1.0-1"
    by = {c.path: c.reason for c in cands}
    assert by == {"src/a.c": None, "gpl/b.c": "file_license", "vendor/z.c": "vendored"}


def test_debian_binary_paths():
    assert sources.binary_relpath("./usr/lib/python3/dist-packages/six.py") == "six.py"
    assert sources.binary_relpath("./usr/share/gocode/src/github.com/a/b/x.go") == "github.com/a/b/x.go"
    assert sources.binary_relpath("./usr/share/cargo/registry/foo-1.0/src/lib.rs") == "foo-1.0/src/lib.rs"
    assert sources.binary_relpath("./usr/share/doc/foo/copyright") is None


def make_site(root):
    site = root / "site"
    site.mkdir()
    for i, (name, lic) in enumerate([("goodpkg", "MIT License"), ("otherpkg", "Apache Software License"),
                                     ("gplpkg", "GNU General Public License v3 (GPLv3)"),
                                     ("copycat", "BSD License")]):
        pkg = site / name
        pkg.mkdir()
        files = {f"{name}/__init__.py": program(100 * i), f"{name}/core.py": program(100 * i + 1)}
        if name == "copycat":                 # the same file as goodpkg: an exact duplicate across packages
            files[f"{name}/core.py"] = program(1)
        for rel, text in files.items():
            (site / rel).write_text(text)
        di = site / f"{name}-1.0.dist-info"
        di.mkdir()
        (di / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
                                     f"Classifier: License :: OSI Approved :: {lic}\n\n")
        (di / "RECORD").write_text("".join(f"{r},,\n" for r in files) + f"{name}-1.0.dist-info/METADATA,,\n")
    return site


def make_build_inputs(tmp_path):
    """The fake site-packages, a pysite list taking all of it, and evaluation data with one human-eval task that
    otherpkg/core.py is (made to be) a copy of: decontamination must drop that file."""
    site = make_site(tmp_path)
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "pysite.txt").write_text("# all of them\n*\n")
    evals = tmp_path / "evals"
    (evals / "human-eval-infilling").mkdir(parents=True)
    (evals / "safim").mkdir()
    with gzip.open(evals / "human-eval-infilling" / "HumanEval-SingleLineInfilling.jsonl.gz", "wt") as fh:
        fh.write(json.dumps({"task_id": "t/0", "prompt": program(101), "canonical_solution": "", "suffix": "",
                             "test": "", "entry_point": "func_101"}) + "\n")
    return site, lists, evals


def test_build_end_to_end_and_resume(tmp_path, capsys):
    site, lists, evals = make_build_inputs(tmp_path)
    out = tmp_path / "out"
    manifest = tmp_path / "manifest.json"
    argv = ["--sources", "pysite", "--site-dir", str(site), "--lists", str(lists), "--out", str(out),
            "--evals", str(evals), "--manifest", str(manifest), "--heldout-frac", "0.3"]
    build.main(argv)
    m = json.loads(manifest.read_text())
    pk = m["sources"]["pysite"]["packages"]
    assert pk["gplpkg"]["status"] == "not_permissive"
    assert pk["goodpkg"]["status"] == "ok" and pk["goodpkg"]["license"] == "MIT"
    assert m["removed"]["exact_duplicate"]["files"] == 1
    assert m["removed"]["eval_contamination"]["files"] == 1
    assert m["removed"]["eval_contamination"]["examples"] == ["pysite:otherpkg:otherpkg/core.py"]
    assert m["totals"]["by_lang"]["python"]["files"] == 4
    shards = [s["file"] for s in m["shards"]]
    assert shards and all(s.endswith(".jsonl.xz") for s in shards)
    docs = []
    for s in shards:
        with lzma.open(out / "shards" / s, "rt") as fh:
            docs += [dict(json.loads(l), shard=s) for l in fh]
    assert len(docs) == 4
    for d in docs:                            # every file of a package is on one side
        side = pk[d["package"]]["split"]
        assert d["shard"].startswith("train/" if side == "train" else "heldout/python")
    assert {"text", "lang", "source", "package", "path", "license"} <= set(docs[0])
    # rerun: nothing left to process, same result
    capsys.readouterr()
    build.main(argv)
    assert "0 of 4 packages to do" in capsys.readouterr().out
    assert json.loads(manifest.read_text())["totals"] == m["totals"]


def test_a_rebuild_keeps_the_sides_of_an_earlier_build(tmp_path):
    """--split-from: packages keep the earlier build's side, so its held-out packages never move into train."""
    site, lists, evals = make_build_inputs(tmp_path)
    argv = ["--sources", "pysite", "--site-dir", str(site), "--lists", str(lists), "--evals", str(evals),
            "--heldout-frac", "0.3"]
    build.main(argv + ["--out", str(tmp_path / "first"), "--manifest", str(tmp_path / "first.json")])
    first = json.loads((tmp_path / "first.json").read_text())
    packages = first["sources"]["pysite"]["packages"]
    flipped = {p: ("train" if v["split"] == "heldout" else "heldout") for p, v in packages.items() if v.get("split")}
    for p, side in flipped.items():
        packages[p]["split"] = side
    (tmp_path / "earlier.json").write_text(json.dumps(first))
    build.main(argv + ["--out", str(tmp_path / "first"), "--manifest", str(tmp_path / "again.json"),
                       "--stage", "finalize", "--split-from", str(tmp_path / "earlier.json")])
    again = json.loads((tmp_path / "again.json").read_text())["sources"]["pysite"]["packages"]
    assert flipped and all(again[p]["split"] == side for p, side in flipped.items())
    # two earlier builds, oldest first: the later one's side wins where it lists a package, the older one's elsewhere
    later = json.loads(json.dumps(first))
    one = sorted(flipped)[0]
    later["sources"]["pysite"]["packages"] = {one: dict(packages[one], split=first_side(one, packages))}
    (tmp_path / "later.json").write_text(json.dumps(later))
    build.main(argv + ["--out", str(tmp_path / "first"), "--manifest", str(tmp_path / "both.json"),
                       "--stage", "finalize", "--split-from", str(tmp_path / "earlier.json"),
                       "--split-from", str(tmp_path / "later.json")])
    both = json.loads((tmp_path / "both.json").read_text())["sources"]["pysite"]["packages"]
    assert both[one]["split"] != flipped[one]
    assert all(both[p]["split"] == side for p, side in flipped.items() if p != one)
    assert build.split.package_name("npm", "@types/node@26.6.6") == "@types/node"
    assert build.split.package_name("debian", "libfoo") == "libfoo"


def test_seen_lists_pack_the_fresh_packages_apart(tmp_path):
    """--seen-lists: the packages no earlier model trained on go into train/fresh-* shards, and a file they share
    with a seen package stays with the seen one (goodpkg/core.py is copycat/core.py), so fresh means unseen."""
    site, lists, evals = make_build_inputs(tmp_path)
    seen = tmp_path / "seen"
    seen.mkdir()
    (seen / "pysite.txt").write_text("# what an earlier model trained on\ncopycat\n")
    out = tmp_path / "out"
    build.main(["--sources", "pysite", "--site-dir", str(site), "--lists", str(lists), "--evals", str(evals),
                "--heldout-frac", "0", "--out", str(out), "--manifest", "", "--seen-lists", str(seen)])
    docs = {}
    for shard in sorted((out / "shards" / "train").iterdir()):
        with lzma.open(shard, "rt") as fh:
            docs[shard.name] = sorted(json.loads(l)["path"] for l in fh)
    assert docs == {"fresh-00000.jsonl.xz": ["goodpkg/__init__.py", "otherpkg/__init__.py"],
                    "train-00000.jsonl.xz": ["copycat/__init__.py", "copycat/core.py"]}


def first_side(package, flipped_packages):
    """The side a package had before the test flipped it."""
    return "train" if flipped_packages[package]["split"] == "heldout" else "heldout"


def test_tokenizer_sample_shares_and_output(tmp_path):
    from models.corpus import sample
    s = sample.shares({"python": 900, "csharp": 1, "go": 99})
    assert abs(sum(s.values()) - 1) < 1e-9
    assert s["csharp"] > 0.01 and s["python"] < 0.9        # floor and cap rebalance
    site = make_site(tmp_path)
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "pysite.txt").write_text("*\n")
    out = tmp_path / "out"
    build.main(["--sources", "pysite", "--site-dir", str(site), "--lists", str(lists), "--out", str(out),
                "--evals", str(tmp_path / "none"), "--manifest", "", "--heldout-frac", "0", "--compress", "gz"])
    got = sample.sample(str(out), 1e9, str(tmp_path / "s.jsonl.xz"))
    with lzma.open(tmp_path / "s.jsonl.xz", "rt") as fh:
        rows = [json.loads(l) for l in fh]
    assert got["python"] == sum(len(r["text"].encode()) for r in rows) and rows[0]["lang"] == "python"
    # --langs: every document of those languages, whole records as the shards hold them
    assert sample.sample(str(out), 0, str(tmp_path / "w.jsonl.xz"), ["python"]) == got_all(out, "python")
    with lzma.open(tmp_path / "w.jsonl.xz", "rt") as fh:
        assert all({"package", "path", "text"} <= set(json.loads(l)) for l in fh)
    assert sample.sample(str(out), 0, str(tmp_path / "none.jsonl.xz"), ["yaml"]) == {}


def got_all(out, lang):
    """Text bytes of every train document of lang, read from the shards."""
    total = 0
    for shard in sorted((out / "shards" / "train").iterdir()):
        with gzip.open(shard, "rt") as fh:
            total += sum(len(d["text"].encode()) for d in map(json.loads, fh) if d["lang"] == lang)
    return {lang: total} if total else {}


def test_finalize_rematches_packages_processed_without_eval_data(tmp_path):
    """Stage 1 where shared/evals is missing (the GPU machine), stage 2 where it exists."""
    site, lists, evals = make_build_inputs(tmp_path)
    out = tmp_path / "out"
    common = ["--sources", "pysite", "--site-dir", str(site), "--lists", str(lists), "--out", str(out),
              "--manifest", str(tmp_path / "m.json")]
    build.main(common + ["--stage", "process", "--evals", str(tmp_path / "missing")])
    build.main(common + ["--stage", "finalize", "--evals", str(evals)])
    m = json.loads((tmp_path / "m.json").read_text())
    assert m["removed"]["eval_contamination"]["examples"] == ["pysite:otherpkg:otherpkg/core.py"]


def test_stage_one_split_over_processes_covers_every_package_once(tmp_path, capsys):
    site, lists, evals = make_build_inputs(tmp_path)
    common = ["--sources", "pysite", "--site-dir", str(site), "--lists", str(lists), "--evals", str(evals),
              "--heldout-frac", "0.3", "--stage", "process"]
    done = []
    for part in ("0/2", "1/2"):
        build.main(common + ["--out", str(tmp_path / "split"), "--part", part])
        done.append({line.split()[2] for line in capsys.readouterr().out.splitlines() if "] pysite:" in line})
    assert done[0] and done[1] and not done[0] & done[1]
    build.main(common + ["--out", str(tmp_path / "whole")])
    whole = {line.split()[2] for line in capsys.readouterr().out.splitlines() if "] pysite:" in line}
    assert done[0] | done[1] == whole
    build.main(common + ["--out", str(tmp_path / "split")])           # the two parts left nothing to do
    assert "0 of 4 packages to do" in capsys.readouterr().out
