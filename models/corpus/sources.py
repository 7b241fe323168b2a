"""Source types. Each turns one package name into: a local artifact (fetch), a license verdict, and the
package's candidate files as (path, bytes) pairs (read).

- DebianSource: Debian source packages through apt deb-src (`apt-get source --download-only`); license
  from the machine-readable debian/copyright, per file (the last matching `Files:` stanza wins).
- NpmSource: npm registry tarballs (`npm pack NAME@VERSION`); license from package.json.
- PySiteSource: a directory of installed Python packages (site-packages) with *.dist-info or *.egg-info;
  license from METADATA / PKG-INFO (or the license files), files from RECORD (or installed-files.txt,
  top_level.txt). Meant for the GPU machine; reads, never downloads.
"""
import csv
import glob
import json
import os
import re
import shutil
import subprocess
import tarfile
import threading

from . import filters, licenses
from .langs import language_of

MAX_MEMBER_BYTES = filters.MAX_FILE_BYTES


class FetchError(Exception):
    pass


def safe_name(name):
    return re.sub(r"[^A-Za-z0-9._+-]", "_", name.replace("/", "__"))


def _tar_members(path, strip=1, prefix="", reasons=None):
    """(relpath, bytes-or-None, reason) for the regular files of a tarball; bytes are read only for files
    that have a language and pass the path filters."""
    with tarfile.open(path, "r:*") as tf:
        for m in tf:
            if not m.isfile():
                continue
            parts = m.name.lstrip("./").split("/")
            if len(parts) <= strip:
                continue
            rel = prefix + "/".join(parts[strip:])
            yield rel, m, tf


class Candidate:
    __slots__ = ("path", "data", "reason", "size")

    def __init__(self, path, data, reason=None, size=None):
        self.path, self.data, self.reason = path, data, reason
        self.size = len(data) if size is None and data is not None else (size or 0)


def collect(members):
    """Read candidate files. Returns list of Candidate (data None when rejected by name/size already)."""
    out = []
    for rel, m, tf in members:
        base_reason = filters.path_reason(rel)
        if base_reason is None and m.size > MAX_MEMBER_BYTES:
            base_reason = "too_large"
        if base_reason:
            # only count files that would have been code/text of a known language
            if language_of(rel) is not None:
                out.append(Candidate(rel, None, base_reason, m.size))
            continue
        lang = language_of(rel)
        if lang is None:
            if "." in os.path.basename(rel) or m.size == 0:
                continue
            f = tf.extractfile(m)
            head = f.read(128) if f else b""
            if language_of(rel, head) is None:
                continue
            data = head + (f.read() if f else b"")
        else:
            f = tf.extractfile(m)
            data = f.read() if f else b""
        out.append(Candidate(rel, data))
    return out


# ------------------------------------------------------------------------------------------ Debian

DEB_SRC_FILE = "/etc/apt/sources.list.d/ultramem-corpus-src.sources"
DEB_SRC_STANZA = """Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


def ensure_deb_src(log=print):
    """Add a deb-src entry for bookworm main if apt has none, then `apt-get update` once."""
    have = False
    for f in glob.glob("/etc/apt/sources.list") + glob.glob("/etc/apt/sources.list.d/*.list") + \
            glob.glob("/etc/apt/sources.list.d/*.sources"):
        try:
            t = open(f).read()
        except OSError:
            continue
        if re.search(r"^\s*deb-src\s", t, re.M) or re.search(r"^Types:.*\bdeb-src\b", t, re.M):
            have = True
    lists = glob.glob("/var/lib/apt/lists/*_source_Sources*")
    if have and lists:
        return
    if not have:
        log(f"adding {DEB_SRC_FILE}")
        with open(DEB_SRC_FILE, "w") as fh:
            fh.write(DEB_SRC_STANZA)
    log("apt-get update")
    subprocess.run(["apt-get", "update", "-qq"], check=True)


def parse_dsc(text):
    info = {"files": []}
    key = None
    for line in text.split("\n"):
        if line.startswith("-----BEGIN PGP SIGNATURE"):
            break
        if line[:1] in (" ", "\t") and key:
            if key == "files":
                parts = line.split()
                if len(parts) == 3:
                    info["files"].append(parts[2])
            continue
        if ":" in line:
            k, v = line.split(":", 1)
            key = k.strip().lower()
            if key != "files":
                info[key] = v.strip()
    return info


class DebianSource:
    name = "debian"

    def __init__(self, cache_dir):
        self.cache_dir = os.path.join(cache_dir, "debian")
        self._checked = False
        self._lock = threading.Lock()
        # apt rebuilds its package cache in memory on every call when the image disables the cache files
        # (Docker's docker-clean does): about 1 s of CPU per call. A private cache file makes a call 0.15 s.
        apt_dir = os.path.join(cache_dir, "apt")
        self.apt = ["apt-get", "-qq", "-o", f"Dir::Cache::pkgcache={apt_dir}/pkgcache.bin",
                    "-o", f"Dir::Cache::srcpkgcache={apt_dir}/srcpkgcache.bin"]
        self._apt_dir = apt_dir

    def _prepare(self):
        with self._lock:
            if self._checked:
                return
            ensure_deb_src()
            os.makedirs(self._apt_dir, exist_ok=True)
            subprocess.run(self.apt + ["source", "--print-uris", "zlib"], capture_output=True)  # builds caches
            self._checked = True

    def fetch(self, pkg):
        """Download the source package; where the mirror lacks some of its tarballs, download the binary
        packages built from it instead (Debian's -dev/python3-/node-/librust- packages carry the source
        of Go, Rust, Python and JavaScript libraries, and every .deb carries debian/copyright)."""
        d = os.path.join(self.cache_dir, safe_name(pkg))
        if os.path.exists(os.path.join(d, ".complete")):
            return d
        self._prepare()
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        r = subprocess.run(self.apt + ["source", "--download-only", pkg], cwd=d, capture_output=True, text=True)
        dscs = glob.glob(os.path.join(d, "*.dsc"))
        if not dscs:
            raise FetchError(((r.stderr or r.stdout).strip().splitlines() or ["apt-get source failed"])[-1])
        info = parse_dsc(open(dscs[0], errors="replace").read())
        missing = [f for f in info["files"] if not os.path.exists(os.path.join(d, f))]
        if missing:
            bins = [b.strip() for b in info.get("binary", "").split(",") if b.strip()]
            bins = [b for b in bins if not b.endswith(("-dbg", "-dbgsym", "-doc", "-udeb")) and "-doc-" not in b]
            bd = os.path.join(d, "bin")
            os.makedirs(bd)
            bins = bins[:12]
            r = subprocess.run(self.apt + ["download"] + bins, cwd=bd, capture_output=True, text=True)
            if r.returncode != 0:          # one unknown name fails the whole call: then one by one
                for b in bins:
                    subprocess.run(self.apt + ["download", b], cwd=bd, capture_output=True, text=True)
            if not glob.glob(os.path.join(bd, "*.deb")):
                raise FetchError(f"source files missing on the mirror ({len(missing)}) and no binary package")
            with open(os.path.join(d, ".missing"), "w") as fh:
                fh.write("\n".join(missing))
        open(os.path.join(d, ".complete"), "w").close()
        return d

    def read(self, pkg, d):
        dsc = glob.glob(os.path.join(d, "*.dsc"))[0]
        info = parse_dsc(open(dsc, errors="replace").read())
        files = [f for f in info["files"] if os.path.exists(os.path.join(d, f))]
        missing = open(os.path.join(d, ".missing")).read().split() if os.path.exists(
            os.path.join(d, ".missing")) else []
        debs = sorted(glob.glob(os.path.join(d, "bin", "*.deb")))
        version = info.get("version")
        fmt = info.get("format", "1.0")
        copyright_text = None
        tarballs = []          # (path, prefix)
        for f in files:
            p = os.path.join(d, f)
            if ".debian.tar." in f:
                with tarfile.open(p, "r:*") as tf:
                    try:
                        copyright_text = tf.extractfile("debian/copyright").read().decode("utf-8", "replace")
                    except KeyError:
                        pass
            elif f.endswith(".diff.gz"):
                copyright_text = _copyright_from_diff(p)
            elif re.search(r"\.orig-([A-Za-z0-9][A-Za-z0-9-]*)\.tar\.", f):
                comp = re.search(r"\.orig-([A-Za-z0-9][A-Za-z0-9-]*)\.tar\.", f).group(1)
                tarballs.append((p, comp + "/"))
            elif ".tar." in f and not f.endswith(".asc"):
                tarballs.append((p, ""))
        if copyright_text is None and "native" in fmt:
            for p, pre in tarballs:
                if pre == "":
                    with tarfile.open(p, "r:*") as tf:
                        for m in tf:
                            if m.isfile() and m.name.split("/", 1)[-1] == "debian/copyright":
                                copyright_text = tf.extractfile(m).read().decode("utf-8", "replace")
                                break
        deb_tars = []
        for deb in debs:
            tar_path = deb[:-4] + ".data.tar"
            if not os.path.exists(tar_path):
                with open(tar_path + ".tmp", "wb") as fh:
                    subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], stdout=fh, check=True)
                os.replace(tar_path + ".tmp", tar_path)
            deb_tars.append(tar_path)
            if copyright_text is None:
                with tarfile.open(tar_path) as tf:
                    for m in tf:
                        if m.isfile() and re.match(r"^\.?/?usr/share/doc/[^/]+/copyright$", m.name):
                            copyright_text = tf.extractfile(m).read().decode("utf-8", "replace")
                            break
        orig_missing = any(re.search(r"\.orig(-[A-Za-z0-9-]+)?\.tar\.", f) or
                           (".tar." in f and ".debian.tar." not in f and not f.endswith(".asc")) for f in missing)
        mode = "binary" if orig_missing else "source"
        verdict = licenses.judge_debian(copyright_text)
        meta = {"version": version, "format": fmt, "license": verdict.get("license"), "mode": mode,
                "license_ids": verdict.get("ids"), "license_how": verdict["how"],
                "permissive": verdict["permissive"], "judge_version": licenses.JUDGE_VERSION,
                "raw_bytes": sum(os.path.getsize(os.path.join(d, f)) for f in files) +
                sum(os.path.getsize(x) for x in debs)}
        if not verdict["permissive"]:
            return meta, []
        dep5 = verdict["dep5"]
        cands = []
        if mode == "source":
            for p, pre in tarballs:
                def members(p=p, pre=pre):
                    for rel, m, tf in _tar_members(p, 1, pre):
                        if rel.startswith("debian/") or rel.startswith(".pc/"):
                            continue
                        yield rel, m, tf
                cands.extend(collect(members()))
        else:
            seen = set()
            for tp in deb_tars:
                def members(tp=tp):
                    for rel, m, tf in _tar_members(tp, 0):
                        rel = binary_relpath(rel)
                        if rel is None or rel in seen:
                            continue
                        seen.add(rel)
                        yield rel, m, tf
                cands.extend(collect(members()))
        # per-file license from DEP-5 (e.g. a GPL test suite inside an MIT package)
        for c in cands:
            if c.reason is None and dep5 is not None:
                lic = dep5.license_for(c.path)
                if lic is not None and not licenses.judge_expression(lic)[0]:
                    c.reason, c.data = "file_license", None
        return meta, cands


_BIN_ROOTS = re.compile(r"^(?:usr/lib/python3/dist-packages/|usr/lib/python3\.\d+/dist-packages/|"
                        r"usr/share/gocode/src/|usr/share/cargo/registry/|usr/share/nodejs/|usr/lib/nodejs/|"
                        r"usr/share/javascript/|usr/include/|usr/share/java/src/|usr/lib/cli/|usr/bin/|"
                        r"usr/share/perl5/|usr/share/[^/]+/)")


def binary_relpath(path):
    """Path inside a binary package -> path relative to the library root it installs to (None: skip).
    Debian's documentation, manual pages and metadata are skipped."""
    p = path.lstrip("./")
    if p.startswith(("usr/share/doc/", "usr/share/man/", "usr/share/info/", "usr/share/lintian/",
                     "usr/share/locale/", "etc/", "var/")) or ".egg-info/" in p or ".dist-info/" in p:
        return None
    m = _BIN_ROOTS.match(p)
    return p[m.end():] if m else p


def _copyright_from_diff(path):
    import gzip
    out, on = [], False
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.startswith("+++ "):
                on = line.split()[1].endswith("debian/copyright")
                continue
            if on:
                if line.startswith("@@"):
                    continue
                if line.startswith("+"):
                    out.append(line[1:])
                elif line.startswith("diff ") or line.startswith("--- "):
                    on = False
    return "".join(out) if out else None


# ------------------------------------------------------------------------------------------ npm

class NpmSource:
    name = "npm"

    def __init__(self, cache_dir):
        self.cache_dir = os.path.join(cache_dir, "npm")

    def fetch(self, spec):
        d = os.path.join(self.cache_dir, safe_name(spec))
        done = os.path.join(d, ".complete")
        if os.path.exists(done):
            return d
        os.makedirs(d, exist_ok=True)
        r = subprocess.run(["npm", "pack", spec, "--silent", "--ignore-scripts", "--json",
                            "--pack-destination", d], cwd=d, capture_output=True, text=True)
        tgz = glob.glob(os.path.join(d, "*.tgz"))
        if r.returncode != 0 or not tgz:
            raise FetchError((r.stderr or r.stdout).strip().splitlines()[-1:] or ["npm pack failed"])
        open(done, "w").close()
        return d

    def fetch_many(self, specs):
        """One `npm pack` for several packages (npm's start-up, about 1 s of CPU, is paid once).
        Returns {spec: (dir, error)}; when the batch fails (one unknown name fails it all), one by one."""
        out = {}
        todo = []
        for spec in specs:
            d = os.path.join(self.cache_dir, safe_name(spec))
            if os.path.exists(os.path.join(d, ".complete")):
                out[spec] = (d, None)
            else:
                todo.append(spec)
        if todo:
            tmp = os.path.join(self.cache_dir, ".batch-" + safe_name(todo[0]))
            shutil.rmtree(tmp, ignore_errors=True)
            os.makedirs(tmp)
            r = subprocess.run(["npm", "pack", *todo, "--silent", "--ignore-scripts", "--json",
                                "--pack-destination", tmp], cwd=tmp, capture_output=True, text=True)
            try:
                rows = json.loads(r.stdout) if r.returncode == 0 else None
            except ValueError:
                rows = None
            if rows is not None and len(rows) == len(todo):
                for spec, row in zip(todo, rows):
                    d = os.path.join(self.cache_dir, safe_name(spec))
                    shutil.rmtree(d, ignore_errors=True)
                    os.makedirs(d)
                    os.replace(os.path.join(tmp, row["filename"]), os.path.join(d, row["filename"]))
                    open(os.path.join(d, ".complete"), "w").close()
                    out[spec] = (d, None)
            else:
                for spec in todo:
                    try:
                        out[spec] = (self.fetch(spec), None)
                    except Exception as e:  # noqa: BLE001 (recorded per package)
                        out[spec] = (None, str(e))
            shutil.rmtree(tmp, ignore_errors=True)
        return out

    def read(self, spec, d):
        tgz = glob.glob(os.path.join(d, "*.tgz"))[0]
        pkg_json = None
        with tarfile.open(tgz, "r:*") as tf:
            for m in tf:
                if m.isfile() and m.name.count("/") == 1 and m.name.endswith("/package.json"):
                    pkg_json = json.loads(tf.extractfile(m).read().decode("utf-8", "replace"))
                    break
        if pkg_json is None:
            return {"permissive": False, "license_how": "no package.json", "license": None,
                    "raw_bytes": os.path.getsize(tgz)}, []
        verdict = licenses.judge_package_json(pkg_json)
        meta = {"version": pkg_json.get("version"), "license": verdict.get("license"),
                "license_ids": verdict.get("ids"), "license_how": verdict["how"],
                "permissive": verdict["permissive"], "raw_bytes": os.path.getsize(tgz)}
        if not verdict["permissive"]:
            return meta, []
        cands = collect(_tar_members(tgz, 1))
        drop = filters.npm_build_output([c.path for c in cands])
        for c in cands:
            if c.reason is None and c.path in drop:
                c.reason, c.data = "compiled_output", None
        return meta, cands


# ------------------------------------------------------------------------------------------ site-packages

def disk_members(base, rels):
    """(relpath, member, opener) for `collect`, from files on disk: regular files only (a symlink's target is
    read where it lives, if at all)."""
    for r in rels:
        p = os.path.join(base, r)
        if os.path.isfile(p) and not os.path.islink(p):
            yield r, _DiskMember(p), _DiskTF


class _DiskMember:
    def __init__(self, path):
        self.size = os.path.getsize(path)
        self.path = path


class _DiskTF:
    @staticmethod
    def extractfile(m):
        return open(m.path, "rb")


METADATA_FILES = {".dist-info": "METADATA", ".egg-info": "PKG-INFO"}   # wheels; setuptools installs (Debian's)


def metadata_path(di):
    return os.path.join(di, METADATA_FILES[os.path.splitext(di)[1]])


def dist_infos(site_dir):
    """{distribution name: *.dist-info or *.egg-info dir} for a site-packages directory."""
    out = {}
    for di in sorted(glob.glob(os.path.join(site_dir, "*.dist-info")) + glob.glob(os.path.join(site_dir, "*.egg-info"))):
        meta = metadata_path(di)
        if not os.path.isfile(meta):
            continue
        name = None
        with open(meta, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith("name:"):
                    name = line.split(":", 1)[1].strip()
                    break
                if not line.strip():
                    break
        if name:
            out.setdefault(re.sub(r"[-_.]+", "-", name).lower(), di)
    return out


def license_texts(di, meta_text):
    """The texts of a distribution's license files: those its metadata names (`License-File`, found in the
    dist-info folder or PEP 639's licenses/ below it), else LICENSE*/LICENCE*/COPYING* in the folder."""
    named = re.findall(r"^License-File:\s*(\S.*?)\s*$", meta_text, re.M)
    paths = [p for f in named for p in (os.path.join(di, "licenses", f), os.path.join(di, f)) if os.path.isfile(p)]
    if not paths:
        paths = sorted(p for pat in ("LICEN[CS]E*", "COPYING*", "licenses/*") for p in glob.glob(os.path.join(di, pat))
                       if os.path.isfile(p))
    return [open(p, encoding="utf-8", errors="replace").read(200_000) for p in dict.fromkeys(paths)]


class PySiteSource:
    name = "pysite"

    def __init__(self, cache_dir, site_dir):
        self.site_dir = site_dir
        self._dists = None

    def fetch(self, dist):
        if self._dists is None:
            self._dists = dist_infos(self.site_dir)
        key = re.sub(r"[-_.]+", "-", dist).lower()
        if key not in self._dists:
            raise FetchError(f"{dist} is not installed in {self.site_dir}")
        return self._dists[key]

    def files_of(self, di):
        rec = os.path.join(di, "RECORD")
        rels = []
        if os.path.exists(rec):
            with open(rec, encoding="utf-8", errors="replace") as fh:
                for row in csv.reader(fh):
                    if row and not row[0].startswith("..") and not os.path.isabs(row[0]):
                        rels.append(row[0])
        elif os.path.exists(os.path.join(di, "installed-files.txt")):   # pip's egg-info: paths from the folder
            for line in open(os.path.join(di, "installed-files.txt"), encoding="utf-8", errors="replace"):
                rel = os.path.normpath(os.path.join(os.path.basename(di), line.strip()))
                if line.strip() and not rel.startswith(".."):
                    rels.append(rel)
        else:
            tl = os.path.join(di, "top_level.txt")
            tops = open(tl).read().split() if os.path.exists(tl) else []
            for t in tops:
                base = os.path.join(self.site_dir, t)
                if os.path.isdir(base):
                    for root, _, fs in os.walk(base):
                        for f in fs:
                            rels.append(os.path.relpath(os.path.join(root, f), self.site_dir))
                elif os.path.exists(base + ".py"):
                    rels.append(t + ".py")
        return [r for r in rels if ".dist-info/" not in r and ".egg-info/" not in r and "__pycache__" not in r]

    def read(self, dist, di):
        meta_text = open(metadata_path(di), encoding="utf-8", errors="replace").read()
        verdict = licenses.judge_python_metadata(meta_text, license_texts(di, meta_text))
        version = re.search(r"^Version:\s*(\S+)", meta_text, re.M)
        rels = self.files_of(di)
        meta = {"version": version.group(1) if version else None, "license": verdict.get("license"),
                "license_ids": verdict.get("ids"), "license_how": verdict["how"],
                "permissive": verdict["permissive"], "raw_bytes": 0}
        if not verdict["permissive"]:
            return meta, []

        cands = collect(disk_members(self.site_dir, rels))
        meta["raw_bytes"] = sum(len(c.data) for c in cands if c.data)
        return meta, cands
