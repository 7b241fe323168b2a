"""Sources already installed on this machine, for the site corpus (sitecorpus.py).

- site_dirs(): every Python environment's site-packages / dist-packages (read by sources.PySiteSource).
- DpkgFiles: the C/C++ headers and sources under /usr/include and /usr/local/include, grouped by the Debian
  package that owns them (`dpkg-query -S`) and judged by that package's /usr/share/doc/<pkg>/copyright, per
  file through DEP-5 where it is machine-readable. A file that dpkg does not know, or a machine without dpkg,
  is skipped and counted: a license is never guessed.
"""
import glob
import os
import shutil
import site
import subprocess

from . import licenses
from .langs import language_of
from .sources import collect, disk_members

# where environments live besides the running interpreter's: Debian/Ubuntu's system Python, pip installs into
# /usr/local, virtual environments and conda under /opt (the GPU machine's python3 is /opt/torch/.venv), pyenv
SITE_GLOBS = (
    "/usr/lib/python3*/dist-packages", "/usr/lib/python3*/site-packages",
    "/usr/local/lib/python3*/dist-packages", "/usr/local/lib/python3*/site-packages",
    "/opt/*/lib/python3*/site-packages", "/opt/*/.venv/lib/python3*/site-packages",
    "/opt/*/envs/*/lib/python3*/site-packages", "/root/.local/lib/python3*/site-packages",
    "/root/.pyenv/versions/*/lib/python3*/site-packages",
)
INCLUDE_DIRS = ("/usr/include", "/usr/local/include")


def site_dirs():
    """Every site-packages folder found here, each real folder once, the running interpreter's first."""
    found = site.getsitepackages() + [site.getusersitepackages()] + \
        [d for pattern in SITE_GLOBS for d in sorted(glob.glob(pattern))]
    out, seen = [], set()
    for d in found:
        real = os.path.realpath(d)
        if os.path.isdir(d) and real not in seen:
            seen.add(real)
            out.append(d)
    return out


def code_files(roots):
    """Absolute paths of the regular files under `roots` that have a language (by name or shebang)."""
    out = []
    for root in roots:
        for d, _, names in os.walk(root):
            for n in names:
                p = os.path.join(d, n)
                if os.path.islink(p) or not os.path.isfile(p):
                    continue
                if language_of(p) is None:
                    if "." in n:
                        continue
                    with open(p, "rb") as fh:
                        if language_of(p, fh.read(128)) is None:
                            continue
                out.append(p)
    return sorted(out)


def _count(skipped, reason, path):
    r = skipped.setdefault(reason, {"files": 0, "bytes": 0})
    r["files"] += 1
    r["bytes"] += os.path.getsize(path)


class DpkgFiles:
    name = "dpkg"

    def __init__(self, doc_dir="/usr/share/doc"):
        self.doc_dir = doc_dir
        self.have_dpkg = shutil.which("dpkg-query") is not None

    def owned(self, roots):
        """({owners: [paths]}, {reason: {files, bytes}}): the code files under `roots` by owning package(s)
        ("a, b" where several packages own a file), and those skipped (no dpkg, no owner)."""
        files = code_files([r for r in roots if os.path.isdir(r)])
        skipped = {}
        if not self.have_dpkg:
            for p in files:
                _count(skipped, "no_dpkg", p)
            return {}, skipped
        owner = {}
        for root in roots:
            r = subprocess.run(["dpkg-query", "-S", root.rstrip("/") + "/*"], capture_output=True, text=True)
            for line in r.stdout.splitlines():
                if line.startswith(("diversion by", "local diversion")):
                    continue
                pkgs, sep, path = line.partition(": ")
                if sep:
                    owner[path] = ", ".join(sorted(p.strip() for p in pkgs.split(",")))
        groups = {}
        for p in files:
            if p in owner:
                groups.setdefault(owner[p], []).append(p)
            else:
                _count(skipped, "no_dpkg_owner", p)
        return groups, skipped

    def versions(self):
        r = subprocess.run(["dpkg-query", "-W", "-f", "${binary:Package}\t${Version}\n"], capture_output=True,
                           text=True)
        return dict(line.split("\t", 1) for line in r.stdout.splitlines() if "\t" in line)

    def judge(self, pkg):
        """The verdict of licenses.judge_debian on the package's installed copyright file."""
        path = os.path.join(self.doc_dir, pkg.split(":", 1)[0], "copyright")
        if not os.path.isfile(path):
            return {"permissive": False, "license": None, "how": "no /usr/share/doc copyright file", "dep5": None}
        return licenses.judge_debian(open(path, encoding="utf-8", errors="replace").read())

    def read(self, owners, paths, version=None):
        """(meta, candidates) like the other sources; a file owned by several packages must be permissive under
        each. Candidate paths are relative to / (usr/include/zlib.h)."""
        verdicts = [self.judge(p) for p in owners.split(", ")]
        ok = all(v["permissive"] for v in verdicts)
        meta = {"version": version, "license": " AND ".join(str(v.get("license")) for v in verdicts),
                "license_how": "; ".join(v["how"] for v in verdicts), "permissive": ok,
                "raw_bytes": sum(os.path.getsize(p) for p in paths)}
        if not ok:
            return meta, []
        cands = collect(disk_members("/", [p.lstrip("/") for p in paths]))
        for c in cands:
            if c.reason is None and not all(licenses.judge_expression(lic)[0] for v in verdicts if v["dep5"]
                                            for lic in v["dep5"].licenses_for_installed(c.path)):
                c.reason, c.data = "file_license", None
        return meta, cands
