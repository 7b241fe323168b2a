"""License judge: normalise license metadata to SPDX-like ids and decide if it is permissive.

Inputs understood: Debian machine-readable `debian/copyright` (DEP-5), npm `package.json` `license` /
`licenses`, and Python core metadata (`License-Expression`, `License`, `Classifier: License ::`).
"""
import email.parser
import fnmatch
import re

PERMISSIVE = {
    "MIT", "MIT-0", "X11", "BSD-2-Clause", "BSD-3-Clause", "0BSD", "BSD", "Apache-2.0", "Apache-1.1", "ISC",
    "PSF-2.0", "Python-2.0", "Zlib", "Unlicense", "CC0-1.0", "public-domain", "BSL-1.0", "NCSA",
    "PostgreSQL", "HPND", "Unicode-DFS", "WTFPL", "BlueOak-1.0.0", "curl", "Libpng", "UPL-1.0", "CC-BY-4.0",
    "CC-BY-3.0", "W3C", "ImageMagick", "FSFAP", "FSFUL", "FSFULLR", "X11-distribute-modifications-variant",
    "ZPL-2.1", "BSD-1-Clause", "CNRI-Python",
}

_ALIASES = {
    "mit": "MIT", "expat": "MIT", "mit/x11": "MIT", "mit license": "MIT", "the mit license": "MIT",
    "mit-style": "MIT", "mit-0": "MIT-0", "x11": "X11", "mit/expat": "MIT",
    "bsd-2-clause": "BSD-2-Clause", "bsd-2": "BSD-2-Clause", "bsd 2-clause": "BSD-2-Clause",
    "simplified bsd": "BSD-2-Clause", "freebsd": "BSD-2-Clause", "bsd-2-clause-freebsd": "BSD-2-Clause",
    "bsd-3-clause": "BSD-3-Clause", "bsd-3": "BSD-3-Clause", "bsd 3-clause": "BSD-3-Clause",
    "new bsd": "BSD-3-Clause", "modified bsd": "BSD-3-Clause", "revised bsd": "BSD-3-Clause",
    "bsd 3-clause license": "BSD-3-Clause", "bsd-3-clause-clear": "BSD-3-Clause", "bsd license": "BSD",
    "bsd": "BSD", "bsd-style": "BSD", "0bsd": "0BSD",
    "apache-2.0": "Apache-2.0", "apache-2": "Apache-2.0", "apache 2.0": "Apache-2.0", "apache 2": "Apache-2.0",
    "apache2": "Apache-2.0", "apache license 2.0": "Apache-2.0", "apache license, version 2.0": "Apache-2.0",
    "apache license version 2.0": "Apache-2.0", "apache software license": "Apache-2.0",
    "apache-2.0-with-llvm-exception": "Apache-2.0", "apache": "Apache-2.0", "apache-1.1": "Apache-1.1",
    "isc": "ISC", "isc license": "ISC", "iscl": "ISC",
    "psf": "PSF-2.0", "psf-2": "PSF-2.0", "psf-2.0": "PSF-2.0", "psfl": "PSF-2.0", "python": "Python-2.0",
    "python-2.0": "Python-2.0", "python software foundation license": "PSF-2.0", "psf license": "PSF-2.0",
    "python-2.0.1": "Python-2.0",
    "zlib": "Zlib", "zlib/libpng": "Zlib", "zlib-acknowledgement": "Zlib", "libpng": "Libpng",
    "unlicense": "Unlicense", "the unlicense": "Unlicense", "cc0": "CC0-1.0", "cc0-1.0": "CC0-1.0",
    "cc0 1.0": "CC0-1.0", "public-domain": "public-domain", "public domain": "public-domain",
    "publicdomain": "public-domain", "bsl-1.0": "BSL-1.0", "boost": "BSL-1.0", "boost-1.0": "BSL-1.0",
    "ncsa": "NCSA", "postgresql": "PostgreSQL", "hpnd": "HPND", "unicode-dfs-2016": "Unicode-DFS",
    "unicode-dfs-2015": "Unicode-DFS", "unicode-3.0": "Unicode-DFS", "wtfpl": "WTFPL",
    "blueoak-1.0.0": "BlueOak-1.0.0", "curl": "curl", "upl-1.0": "UPL-1.0", "cc-by-4.0": "CC-BY-4.0",
    "cc-by-3.0": "CC-BY-3.0", "w3c": "W3C", "fsfap": "FSFAP", "fsful": "FSFUL", "fsfullr": "FSFULLR",
    "permissive": "permissive-unnamed", "pd": "public-domain", "psf-license": "PSF-2.0",
    "openssh": "BSD", "edl-1.0": "BSD-3-Clause", "zope-2.1": "ZPL-2.1", "zpl-2.1": "ZPL-2.1",
    "bsd-1-clause": "BSD-1-Clause", "cnri-python": "CNRI-Python",
}
# Debian's copyright files name many variants of the common licenses after their project
# ("MIT-Expat", "BSD-3-clause-Cambridge", "BSD3"): these patterns map them to the base license.
_VARIANTS = [
    (re.compile(r"^(?:mit|expat|x11)(?:[-_/ ].*)?$"), "MIT"),
    (re.compile(r"^bsd-?([0-3])(?:-?clauses?)?(?:[-_ ].*)?$"), "BSD-{}-Clause"),
    (re.compile(r"^bsd-c([23])$"), "BSD-{}-Clause"),
    (re.compile(r"^apache-?2(?:\.0)?(?:[-_ ].*)?$"), "Apache-2.0"),
    (re.compile(r"^apache(?:-software)?(?:-license)?,?-(?:version-)?v?2(?:\.0)?$"), "Apache-2.0"),   # "Apache License v2.0"
    (re.compile(r"^(?:isc|zlib)(?:[-_ ].*)?$"), None),
]

# Python trove classifiers (after "License :: ")
_CLASSIFIERS = {
    "MIT License": "MIT", "BSD License": "BSD", "Apache Software License": "Apache-2.0",
    "Python Software Foundation License": "PSF-2.0", "ISC License (ISCL)": "ISC",
    "zlib/libpng License": "Zlib", "The Unlicense (Unlicense)": "Unlicense", "Public Domain": "public-domain",
    "CC0 1.0 Universal (CC0 1.0) Public Domain Dedication": "CC0-1.0", "Boost Software License 1.0 (BSL-1.0)":
    "BSL-1.0", "MIT No Attribution License (MIT-0)": "MIT-0", "University of Illinois/NCSA Open Source License":
    "NCSA", "Historical Permission Notice and Disclaimer (HPND)": "HPND", "Zero-Clause BSD (0BSD)": "0BSD",
    "Universal Permissive License (UPL)": "UPL-1.0", "Blue Oak Model License (BlueOak-1.0.0)": "BlueOak-1.0.0",
}


def normalize(name):
    """One license name -> canonical id (unknown names are returned cleaned, so they are not permissive)."""
    n = name.strip().strip("()").strip()
    if n == "UNLICENSED":          # npm: "not licensed for use by others" (not the Unlicense!)
        return "UNLICENSED"
    n = re.sub(r"\s+with\s+.*$", "", n, flags=re.I)       # exceptions only ever grant more
    low = n.lower().rstrip(".")
    low = re.sub(r"\s+license$", "", low) if low not in _ALIASES else low
    if low in _ALIASES:
        return _ALIASES[low]
    low2 = low.replace("_", "-").replace(" ", "-")
    if low2 in _ALIASES:
        return _ALIASES[low2]
    for k in ("bsd-3-clause", "bsd-2-clause", "apache-2.0", "mit", "isc", "zlib", "psf", "cc0"):
        if low2.startswith(k + "~") or low2.startswith(k + "-like"):   # Debian variants: "BSD-3-clause~Foo"
            return _ALIASES[k]
    for rx, out in _VARIANTS:
        m = rx.match(low2)
        if m:
            if out is None:
                return _ALIASES[low2.split("-")[0].split("_")[0]]
            if "{}" in out:
                n_clause = m.group(1)
                return "0BSD" if n_clause == "0" else out.format(n_clause)
            return out
    return n


def is_permissive_id(lid):
    return lid in PERMISSIVE or lid == "permissive-unnamed"


def _split_top(expr, sep):
    """Split on a separator word at parenthesis depth 0 (case-insensitive)."""
    out, depth, cur, i = [], 0, [], 0
    toks = re.split(r"(\(|\)|\s+)", expr)
    for t in toks:
        if t == "(":
            depth += 1
        elif t == ")":
            depth -= 1
        if depth == 0 and t.lower() == sep:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(t)
    out.append("".join(cur))
    return [o.strip() for o in out if o.strip()]


def judge_expression(expr):
    """(permissive: bool, ids: sorted list) for an SPDX / DEP-5 license expression.
    OR: any permissive alternative suffices; AND: all parts must be permissive."""
    expr = (expr or "").strip()
    if not expr:
        return False, []
    # DEP-5 uses commas to group: "GPL-2+ or Artistic, and BSD" == "(GPL-2+ or Artistic) and BSD"
    parts = [p.strip() for p in re.split(r",\s*(?=(?:and|or)\b)", expr, flags=re.I)]
    if len(parts) > 1:
        acc_ok, acc_ids = None, set()
        for p in parts:
            m = re.match(r"(?i)(and|or)\s+(.*)", p)
            op, body = (m.group(1).lower(), m.group(2)) if m else (None, p)
            ok, ids = judge_expression(body)
            acc_ids.update(ids)
            if acc_ok is None:
                acc_ok = ok
            else:
                acc_ok = (acc_ok or ok) if op == "or" else (acc_ok and ok)
        return bool(acc_ok), sorted(acc_ids)
    alts = _split_top(expr, "or")
    if len(alts) > 1:
        res = [judge_expression(a) for a in alts]
        return any(r[0] for r in res), sorted({i for r in res for i in r[1]})
    conj = _split_top(expr, "and")
    if len(conj) > 1:
        res = [judge_expression(a) for a in conj]
        return all(r[0] for r in res), sorted({i for r in res for i in r[1]})
    e = expr.strip()
    if e.startswith("(") and e.endswith(")"):
        return judge_expression(e[1:-1])
    lid = normalize(e)
    return is_permissive_id(lid), [lid]


# ---------------------------------------------------------------- Debian DEP-5

def _paragraphs(text):
    paras, cur, key = [], {}, None
    for line in text.split("\n"):
        if not line.strip():
            if cur:
                paras.append(cur)
            cur, key = {}, None
            continue
        if line[0] in " \t" and key:
            cur[key] += "\n" + line.strip()
            continue
        if ":" in line:
            key, val = line.split(":", 1)
            key = key.strip().lower()
            cur[key] = val.strip()
    if cur:
        paras.append(cur)
    return paras


_WILDCARD = re.compile(r"[*?[]")     # what fnmatch reads as other than itself


class Dep5:
    """Parsed machine-readable debian/copyright. `license_for(path)` gives the expression that applies."""

    def __init__(self, text):
        paras = _paragraphs(text)
        self.machine_readable = bool(paras) and "format" in paras[0] and (
            "copyright-format" in paras[0]["format"] or "dep5" in paras[0]["format"].lower()
            or "dep-5" in paras[0]["format"].lower())
        self.stanzas = []
        for p in paras:
            if "files" in p and "license" in p:
                pats = p["files"].split()
                lic = p["license"].split("\n", 1)[0].strip()
                self.stanzas.append((pats, lic))
        self.header_license = None
        for pats, lic in self.stanzas:
            if "*" in pats:
                self.header_license = lic
        if self.header_license is None and self.stanzas:
            self.header_license = self.stanzas[0][1]
        self._installed_forms = None    # licenses_for_installed's index of the patterns, built on its first call
        self._stanza_regexes = None     # license_for's, likewise

    def license_for(self, path):
        """The license of a source-tree path: the last stanza with a pattern that matches it as `f` or `f/*`
        (DEP-5), else the header's."""
        if self._stanza_regexes is None:
            # one regex per stanza, compiled once per copyright file: fnmatch per pattern and file recompiled
            # patterns past its cache (32,768), as licenses_for_installed found on boost's 36,736
            self._stanza_regexes = [re.compile("|".join(fnmatch.translate(g) for pat in pats
                                                        for g in (pat, pat.rstrip("/") + "/*")))
                                    for pats, _ in self.stanzas]
        for rx, (_, lic) in zip(reversed(self._stanza_regexes), reversed(self.stanzas)):
            if rx.match(path):
                return lic
        return self.header_license

    def licenses_for_installed(self, path):
        """Every license that may cover an installed file (`usr/include/zlib.h`). The `Files:` patterns name
        paths of the source tree (`include/zlib.h`, `contrib/minizip/*`), which the installed path does not
        show, so a stanza counts when its pattern, or a tail of it that still names a folder (`minizip/*`), matches
        a tail of the installed path (as `f` or `f/*`); the `Files: *` license always counts. A file is as
        permissive as the least permissive of these: conservative, never a guess."""
        if self._installed_forms is None:
            self._installed_forms = self._index_installed_forms()
        literal, wildcard = self._installed_forms
        parts = path.strip("/").split("/")
        found = {self.header_license}
        # a literal form matches a tail whole (f) or as its leading folders (f/*): it is some run of the path's parts
        for i in range(len(parts)):
            for j in range(i + 1, len(parts) + 1):
                found.update(literal.get("/".join(parts[i:j]), ()))
        tails = ["/".join(parts[i:]) for i in range(len(parts))]
        for lic, rx in wildcard.items():
            if lic not in found and any(rx.match(t) for t in tails):
                found.add(lic)
        return found

    def _index_installed_forms(self):
        """({literal form: its licenses}, {license: one regex for its forms with wildcards, each as f or f/*}),
        built once per copyright file. Boost's copyright names 36,736 patterns (176,860 forms): testing each against
        every file's tails with fnmatch took 24 s a file, its pattern cache (32,768) recompiling them all the time."""
        literal, wild = {}, {}
        for pats, lic in self.stanzas:
            for pat in pats:
                pp = pat.strip("/").split("/")
                for f in ({pat.strip("/")} | {"/".join(pp[i:]) for i in range(1, len(pp) - 1)}) - {"*"}:
                    if _WILDCARD.search(f):
                        wild.setdefault(lic, set()).add(f)
                    else:
                        literal.setdefault(f, set()).add(lic)
        return literal, {lic: re.compile("|".join(fnmatch.translate(g) for f in sorted(fs) for g in (f, f + "/*")))
                         for lic, fs in wild.items()}


JUDGE_VERSION = 2      # bump when the judge accepts more: packages it rejected before are judged again

def _phrase(text):
    """A regex for a license phrase that tolerates any line breaks and indentation between words."""
    return re.compile(r"\s+".join(re.escape(w) for w in text.split()), re.I)


_FREE_TEXT_PERMISSIVE = [
    ("MIT", _phrase("Permission is hereby granted, free of charge, to any person obtaining a copy")),
    ("BSD", _phrase("Redistribution and use in source and binary forms, with or without modification, are "
                    "permitted")),
    ("Apache-2.0", re.compile(r"Apache\s+License,?\s+Version\s+2\.0", re.I)),
    ("ISC", re.compile(r"Permission\s+to\s+use,\s+copy,\s+modify,\s+and(?:/or)?\s+distribute\s+this\s+"
                       r"software\s+for\s+any\s+purpose\s+with\s+or\s+without\s+fee", re.I)),
    ("Zlib", _phrase("This software is provided 'as-is', without any express or implied")),
    ("HPND", re.compile(r"Permission\s+to\s+use,\s+copy,\s+modify,\s+(?:and\s+)?distribute,?\s+(?:and\s+sell\s+)?"
                        r"this\s+software\s+and\s+its\s+documentation\s+for\s+any\s+purpose", re.I)),
]
# copyleft licenses, and a vendor's license agreement (the CUDA toolkit's "NOTICE TO LICENSEE ... Licensed
# Deliverables" header)
_COPYLEFT_NAMES = r"General Public License|Lesser General|Library General|Mozilla Public|Artistic License|" \
    r"Eclipse Public|Common Public License|Affero"
_VENDOR_AGREEMENTS = r"Software License Agreement|End[- ]User License Agreement|NOTICE TO LICENSEE|Licensed Deliverables"
_NOT_PERMISSIVE_TEXT = re.compile(
    rf"{_COPYLEFT_NAMES}|{_VENDOR_AGREEMENTS}|\bL?GPL|\bMPL\b|\bEPL\b|\bCDDL\b|\bEULA\b|"
    r"All advertising materials mentioning|non-?commercial|Creative Commons Attribution-NonCommercial|\bproprietary\b",
    re.I)
# in a source file's first lines: the acronyms in capitals only (`mpl` is matplotlib, `epl` a variable), not
# "proprietary" (HTTP's proprietary headers), and not "GPL-compatible" (said of permissive licenses)
_NOT_PERMISSIVE_NOTICE = re.compile(
    rf"(?i:{_COPYLEFT_NAMES}|{_VENDOR_AGREEMENTS})|\bL?GPL(?![- ]compatible)|\b(?:MPL|EPL|CDDL|EULA)\b")


def judge_free_text(text):
    """A copyright file that is not machine-readable: permissive only when it carries a recognised
    permissive license text and mentions no copyleft or restrictive license anywhere."""
    if _NOT_PERMISSIVE_TEXT.search(text):
        return False, []
    found = [name for name, rx in _FREE_TEXT_PERMISSIVE if rx.search(text)]
    return bool(found), found


def judge_debian(copyright_text):
    """Package verdict from debian/copyright: dict(permissive, license, how, dep5)."""
    if copyright_text is None:
        return {"permissive": False, "license": None, "how": "no debian/copyright", "dep5": None}
    d = Dep5(copyright_text)
    if not d.machine_readable or not d.header_license:
        ok, found = judge_free_text(copyright_text)
        if ok:
            return {"permissive": True, "license": " AND ".join(found), "ids": found,
                    "how": "debian/copyright free text (license texts found, no copyleft mentioned)", "dep5": None}
        return {"permissive": False, "license": None, "how": "debian/copyright not machine-readable", "dep5": None}
    ok, ids = judge_expression(d.header_license)
    return {"permissive": ok, "license": d.header_license, "ids": ids, "how": "debian/copyright Files: *",
            "dep5": d}


def notice_not_permissive(head):
    """Whether a file's own first lines (its license notice) name a copyleft or proprietary license: such a
    file is dropped whatever its package's license says (a vendor header shipped inside an MIT wheel)."""
    return bool(_NOT_PERMISSIVE_NOTICE.search(head))


# ---------------------------------------------------------------- npm

def judge_package_json(pkg):
    lic = pkg.get("license")
    if isinstance(lic, dict):
        lic = lic.get("type")
    if not lic and isinstance(pkg.get("licenses"), list):
        types = [l.get("type") if isinstance(l, dict) else str(l) for l in pkg["licenses"]]
        lic = " OR ".join(t for t in types if t)
    if not isinstance(lic, str) or not lic.strip():
        return {"permissive": False, "license": None, "how": "package.json has no license"}
    if lic.strip().upper().startswith("SEE LICENSE"):
        return {"permissive": False, "license": lic, "how": "package.json points to a license file"}
    ok, ids = judge_expression(lic)
    return {"permissive": ok, "license": lic, "ids": ids, "how": "package.json license"}


# ---------------------------------------------------------------- Python dist-info

def judge_python_metadata(metadata_text, license_texts=()):
    """Core metadata (METADATA / PKG-INFO): License-Expression, else the License classifiers, else the License
    field; with none of these (or `License: UNKNOWN`), the texts of the distribution's license files
    (`License-File`, PEP 639's `licenses/` folder) judged like a free-text copyright file."""
    msg = email.parser.Parser().parsestr(metadata_text, headersonly=True)
    expr = msg.get("License-Expression")
    if expr:
        ok, ids = judge_expression(expr)
        return {"permissive": ok, "license": expr, "ids": ids, "how": "License-Expression"}
    cls = [c.split("::", 1)[1].strip() for c in (msg.get_all("Classifier") or []) if c.startswith("License ::")]
    cls = [c.split("::")[-1].strip() if c.startswith("OSI Approved") else c for c in cls]
    cls = [c for c in cls if c != "OSI Approved"]
    if cls:
        ids = [_CLASSIFIERS.get(c, c) for c in cls]
        # several license classifiers: conservative, every one must be permissive
        return {"permissive": all(is_permissive_id(i) for i in ids), "license": " AND ".join(ids),
                "ids": sorted(set(ids)), "how": "License classifiers"}
    lic = (msg.get("License") or "").strip()
    if lic.upper() == "UNKNOWN":          # setuptools' placeholder for "not given"
        lic = ""
    if lic and "\n" not in lic and len(lic) < 100:
        ok, ids = judge_expression(lic)
        return {"permissive": ok, "license": lic, "ids": ids, "how": "License field"}
    if lic:
        first = lic.split("\n", 1)[0]
        if re.search(r"Permission is hereby granted, free of charge", lic):
            return {"permissive": True, "license": "MIT", "ids": ["MIT"], "how": "License field text (MIT grant)"}
        ok, ids = judge_expression(re.sub(r"(?i)^(the\s+)?", "", first).strip())
        return {"permissive": ok, "license": first, "ids": ids, "how": "License field first line"}
    if license_texts:
        ok, found = judge_free_text("\n".join(license_texts))
        return {"permissive": ok, "license": " AND ".join(found) or None, "ids": found,
                "how": "license file text" + ("" if ok else " (no permissive license text, or a copyleft one)")}
    return {"permissive": False, "license": None, "how": "no license metadata"}
