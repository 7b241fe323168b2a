"""Held-out split by package (never by file), per language.

A package is held out when a stable hash of "source:package" falls under `frac`. Then, per language, if
the held-out packages carry less than half of `frac` of that language's bytes, packages whose dominant
language it is are promoted (in hash order) until they do, always leaving at least one such package in
train. Every file of a package goes to the same side.
"""
import hashlib


def package_hash(key):
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") / 2.0**64


def assign(packages, frac=0.03, min_share=0.5):
    """packages: {key: {lang: bytes}}. Returns {key: "heldout"|"train"}."""
    h = {k: package_hash(k) for k in packages}
    side = {k: ("heldout" if h[k] < frac else "train") for k in packages}
    langs = sorted({l for v in packages.values() for l in v})
    for lang in langs:
        total = sum(v.get(lang, 0) for v in packages.values())
        if total == 0:
            continue

        def held():
            return sum(packages[k].get(lang, 0) for k in packages if side[k] == "heldout")
        dominant = sorted((k for k, v in packages.items() if v and max(v, key=v.get) == lang
                           and side[k] == "train"), key=lambda k: h[k])
        n_dom_total = sum(1 for k, v in packages.items() if v and max(v, key=v.get) == lang)
        target = min_share * frac * total
        while dominant and held() < target:
            n_dom_train = sum(1 for kk, v in packages.items() if v and max(v, key=v.get) == lang
                              and side[kk] == "train")
            if n_dom_train <= 1 or n_dom_total < 2:
                break
            need = target - held()
            # in hash order, the first package that does not overshoot the need by much; else the smallest,
            # so that one big package does not move most of a scarce language out of train
            fit = [k for k in dominant if packages[k][lang] <= 4 * need]
            k = fit[0] if fit else min(dominant, key=lambda k: packages[k][lang])
            dominant.remove(k)
            side[k] = "heldout"
    return side


def package_name(source, package):
    """A package's name without its version: npm keys are name@version (scoped names start with @)."""
    if source == "npm" and "@" in package[1:]:
        return package[:package.rindex("@")]
    return package


def sides_of_earlier_build(manifest_path, by_key):
    """{key: side} for the packages of by_key ("source:package" -> stats) that an earlier build's manifest lists,
    matched by name: a package keeps its side across rebuilds even where its version moved on."""
    import json
    with open(manifest_path) as fh:
        sources = json.load(fh)["sources"]
    earlier = {(src, package_name(src, p)): info["split"]
               for src, v in sources.items() for p, info in v.get("packages", {}).items() if info.get("split")}
    out = {}
    for key in by_key:
        src, package = key.split(":", 1)
        side = earlier.get((src, package_name(src, package)))
        if side in ("train", "heldout"):
            out[key] = side
    return out
