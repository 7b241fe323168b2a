"""Which language a file is, from its name (and a shebang for extensionless scripts)."""
import posixpath
import re

CODE_LANGS = ("typescript", "javascript", "python", "go", "rust", "java", "c", "cpp", "csharp", "shell")
AUX_LANGS = ("json", "yaml", "markdown", "html", "css")
ALL_LANGS = CODE_LANGS + AUX_LANGS

_EXT = {
    ".ts": "typescript", ".tsx": "typescript", ".mts": "typescript", ".cts": "typescript",
    ".js": "javascript", ".jsx": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".py": "python", ".pyi": "python",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c", ".h": "c",
    ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".c++": "cpp", ".hpp": "cpp", ".hh": "cpp", ".hxx": "cpp",
    ".h++": "cpp", ".ipp": "cpp", ".tcc": "cpp",
    ".cs": "csharp",
    ".sh": "shell", ".bash": "shell", ".zsh": "shell", ".ksh": "shell",
    ".json": "json",
    ".yaml": "yaml", ".yml": "yaml",
    ".md": "markdown", ".markdown": "markdown",
    ".html": "html", ".htm": "html",
    ".css": "css", ".scss": "css", ".less": "css",
}

_SHEBANG = re.compile(rb"^#![ \t]*(?:/usr/bin/env[ \t]+(?:-S[ \t]+)?)?(?:\S*/)?([A-Za-z0-9_.+-]+)")
_SHEBANG_LANG = {
    "sh": "shell", "bash": "shell", "dash": "shell", "zsh": "shell", "ksh": "shell",
    "python": "python", "python3": "python", "python2": "python",
    "node": "javascript", "nodejs": "javascript",
}


def ext_of(path):
    base = posixpath.basename(path).lower()
    if base.endswith(".d.ts") or base.endswith(".d.mts") or base.endswith(".d.cts"):
        return ".d.ts"
    return posixpath.splitext(base)[1]


def language_of(path, head=b""):
    """Language name for `path`, or None. `head` is the first bytes of the file (for shebangs)."""
    ext = ext_of(path)
    if ext == ".d.ts":
        return "typescript"
    lang = _EXT.get(ext)
    if lang:
        return lang
    if ext == "" and head.startswith(b"#!"):
        m = _SHEBANG.match(head.split(b"\n", 1)[0])
        if m:
            name = m.group(1).decode("ascii", "replace")
            name = re.sub(r"[0-9.]+$", "", name) or name
            return _SHEBANG_LANG.get(name) or _SHEBANG_LANG.get(m.group(1).decode("ascii", "replace"))
    return None


def resolve_headers(langs_by_path):
    """`.h` files count as C++ when a package has more C++ than C sources."""
    n_c = sum(1 for p, l in langs_by_path.items() if l == "c" and not p.endswith(".h"))
    n_cpp = sum(1 for l in langs_by_path.values() if l == "cpp")
    if n_cpp > n_c:
        return {p: ("cpp" if (l == "c" and p.endswith(".h")) else l) for p, l in langs_by_path.items()}
    return dict(langs_by_path)
