"""Regenerate the committed package lists (lists/debian.txt, lists/npm.txt) from local indexes:
Debian's source index that `apt-get update` keeps under /var/lib/apt/lists (deb-src must be enabled),
and, for npm, a TSV of package name, version and monthly downloads (the one this workplace provides
under .library/env/packages/npm.tsv). Nothing is fetched; the lists are committed, and the build reads
only them.

    /usr/bin/python3 -m models.corpus.lists --npm-tsv PATH
"""
import argparse
import glob
import hashlib
import os
import subprocess

from . import split

HERE = os.path.dirname(os.path.abspath(__file__))

# category -> (how a source package is chosen, budget of compressed MB for the full list)
CATEGORIES = {
    "python": (lambda n, s: n.startswith("python-") or s == "python", 1800),
    "go": (lambda n, s: n.startswith("golang-") or s == "golang", 900),
    "rust": (lambda n, s: n.startswith("rust-") or s == "rust", 700),
    "javascript": (lambda n, s: n.startswith("node-") or s == "javascript", 500),
    "java": (lambda n, s: s == "java", 600),
    "csharp": (lambda n, s: s == "cli-mono", 200),
    "c_cpp": (lambda n, s: s in ("libs", "devel", "utils", "net", "science", "graphics", "sound", "text",
                                 "x11", "math", "admin", "editors", "shells", "vcs", "database", "video",
                                 "libdevel", "interpreters", "httpd") and not n.startswith(
        ("python", "node-", "golang-", "rust-", "r-cran", "r-bioc", "haskell-", "ruby-", "ocaml", "lib")) or
        (s in ("libs", "libdevel") and n.startswith("lib") and not n.endswith("-perl")), 8000),
}
EXCLUDE_PREFIX = ("linux", "gcc-", "llvm-toolchain", "openjdk-", "firefox", "thunderbird", "chromium", "libreoffice",
                  "texlive", "qtwebengine", "webkit2gtk", "mono", "rustc", "golang-1.", "gcc", "binutils",
                  "boost1", "ceph", "paraview", "vtk", "julia", "kicad", "insighttoolkit", "android-", "emscripten")
MAX_PKG_MB = 25
# Debian's C and C++ is mostly GPL; these well-known libraries are (mostly) under permissive licenses and
# go first in their category. The license is still judged per package from debian/copyright.
CURATED = {
    "c_cpp": """zlib libpng1.6 curl sqlite3 jq libuv1 openssl nghttp2 expat libyaml jansson libevent lua5.4 redis
        nginx libarchive lz4 libzstd brotli libwebp libjpeg-turbo tinyxml2 fmtlib spdlog nlohmann-json3 catch2
        googletest abseil protobuf grpc leveldb snappy re2 double-conversion libsodium mbedtls flatbuffers
        msgpack-c yaml-cpp pugixml rapidjson cjson libxml2 libxslt pcre2 libffi harfbuzz pixman libepoxy libdrm
        wayland libx11 tmux openssh musl c-ares libssh2 libtomcrypt libmaxminddb h2o uthash xxhash libcbor lmdb
        libunwind json-c utf8proc libxmlb tree-sitter libb2 cmark onetbb eigen3 glm cpp-httplib cli11 range-v3
        doctest benchmark gflags google-glog mimalloc jemalloc hiredis libsrtp2 opus libvpx libogg libvorbis flac
        openjpeg2 giflib tiff lcms2 openexr imath libheif libavif dav1d aom""".split(),
}


def sources_index():
    text = []
    for f in sorted(glob.glob("/var/lib/apt/lists/*_main_source_Sources*")):
        if f.endswith(".lz4"):
            out = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", f], capture_output=True, text=True).stdout
        else:
            out = open(f, errors="replace").read()
        text.append(out)
    return "\n".join(text)


def parse_sources(text):
    pkgs = {}
    for stanza in text.split("\n\n"):
        name, section, size, in_files = None, "misc", 0, False
        for line in stanza.split("\n"):
            if line.startswith("Package:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("Section:"):
                section = line.split(":", 1)[1].strip().split("/")[-1]
            elif line.startswith("Files:"):
                in_files = True
            elif in_files and line.startswith(" "):
                parts = line.split()
                if len(parts) == 3:
                    size += int(parts[1])
            elif line and not line.startswith(" "):
                in_files = False
        if name:
            pkgs[name] = (section, size)
    return pkgs


def h(name):
    return hashlib.sha256(name.encode()).hexdigest()


def debian_list(pkgs):
    chosen = {}
    for cat, (pred, budget) in CATEGORIES.items():
        first = [n for n in CURATED.get(cat, []) if n in pkgs and pkgs[n][1] <= 2 * MAX_PKG_MB * 1e6]
        cands = first + sorted((n for n, (s, sz) in pkgs.items() if pred(n, s) and sz <= MAX_PKG_MB * 1e6
                                and n not in first and not n.startswith(EXCLUDE_PREFIX)
                                and not any(n in v for v in chosen.values())), key=h)
        acc, out = 0, []
        for n in cands:
            if acc > budget * 1e6:
                break
            out.append(n)
            acc += pkgs[n][1]
        chosen[cat] = out
    # round-robin, so that the first N lines of the list are a mix of every category
    lines, i = [], 0
    while any(i < len(v) for v in chosen.values()):
        for cat, v in chosen.items():
            if i < len(v):
                lines.append(f"{v[i]}  # {cat}, {pkgs[v[i]][1] / 1e6:.1f} MB")
        i += 1
    return lines


def npm_list(tsv, n_top):
    rows = []
    with open(tsv, encoding="utf-8", errors="replace") as fh:
        next(fh)
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3 and parts[2].isdigit():
                rows.append((int(parts[2]), parts[0], parts[1]))
    rows.sort(reverse=True)
    return [f"{name}@{ver}" for _, name, ver in rows[:n_top]]


def widened(path, lines, source):
    """The committed list at `path` first, unchanged, then the lines of `lines` whose package it lacks: packages
    built already keep their place and version (the indexes move on: npm's versions, Debian's point releases),
    and a prefix of the list (`build.py --limit`) still names what an earlier build took."""
    if not os.path.exists(path):
        return lines
    kept = [l.rstrip("\n") for l in open(path) if l.strip() and not l.startswith("#")]

    def name(line):   # 'zlib  # c_cpp, 0.5 MB' -> 'zlib'; '@scope/pkg@1.2.3' -> '@scope/pkg'
        return split.package_name(source, line.split("#", 1)[0].strip())
    names = {name(l) for l in kept}
    return kept + [l for l in lines if name(l) not in names]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npm-tsv")
    ap.add_argument("--npm-top", type=int, default=8000)
    args = ap.parse_args()
    pkgs = parse_sources(sources_index())
    path = os.path.join(HERE, "lists", "debian.txt")
    lines = widened(path, debian_list(pkgs), "debian")
    with open(path, "w") as fh:
        fh.write("# Debian bookworm source packages (apt-get source), generated by models/corpus/lists.py.\n"
                 "# Round-robin over categories; the size is the compressed download. Edit freely.\n")
        fh.write("\n".join(lines) + "\n")
    print(f"debian: {len(lines)} packages")
    if args.npm_tsv:
        path = os.path.join(HERE, "lists", "npm.txt")
        names = widened(path, npm_list(args.npm_tsv, args.npm_top), "npm")
        with open(path, "w") as fh:
            fh.write("# npm packages (npm pack NAME@VERSION), most downloaded first, generated by "
                     "models/corpus/lists.py.\n")
            fh.write("\n".join(names) + "\n")
        print(f"npm: {len(names)} packages")


if __name__ == "__main__":
    main()
