"""License judge (models/corpus/licenses.py): SPDX expressions, Debian DEP-5, package.json, dist-info."""

from models.corpus import licenses as L


def ok(expr):
    return L.judge_expression(expr)[0]


def test_permissive_ids_and_aliases():
    for e in ("MIT", "Expat", "BSD-3-clause", "BSD-2-Clause", "Apache-2.0", "Apache 2.0", "ISC", "PSF-2.0",
              "Zlib", "Unlicense", "CC0-1.0", "public-domain", "0BSD", "BSL-1.0", "Python-2.0",
              "BSD-3-clause~Intel", "Apache-2.0 WITH LLVM-exception"):
        assert ok(e), e
    for e in ("GPL-2+", "LGPL-2.1", "MPL-2.0", "AGPL-3.0-only", "Artistic-1.0", "UNLICENSED", "", "custom"):
        assert not ok(e), e


def test_expressions():
    assert ok("MIT OR GPL-3.0")                 # any permissive alternative
    assert not ok("MIT AND GPL-3.0")            # every part must be permissive
    assert ok("(MIT OR Apache-2.0) AND BSD-3-Clause")
    assert not ok("(MIT OR Apache-2.0) AND GPL-2.0")
    assert ok("MIT or Apache-2.0")              # Debian writes lowercase
    assert not ok("GPL-2+ or Artistic-1.0, and BSD-3-clause")   # DEP-5 comma grouping: (GPL or Artistic) and BSD
    assert ok("GPL-2+ or MIT, and BSD-3-clause")


DEP5 = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: demo

Files: *
Copyright: 2020 Someone
License: MIT

Files: tests/gpl/* contrib/legacy.c
Copyright: 2001 Someone Else
License: GPL-2+

Files: debian/*
Copyright: 2021 A Maintainer
License: GPL-2+

License: MIT
 Permission is hereby granted, free of charge, ...
"""


def test_dep5_package_and_file_licenses():
    v = L.judge_debian(DEP5)
    assert v["permissive"] and v["license"] == "MIT"
    d = v["dep5"]
    assert d.license_for("src/main.c") == "MIT"
    assert d.license_for("tests/gpl/t1.c") == "GPL-2+"
    assert d.license_for("contrib/legacy.c") == "GPL-2+"


def test_dep5_gpl_package_and_free_form_copyright_are_rejected():
    assert not L.judge_debian(DEP5.replace("License: MIT\n\nFiles: tests", "License: GPL-3+\n\nFiles: tests"))[
        "permissive"]
    v = L.judge_debian("This package was debianized by someone.\nIt is MIT licensed.\n")
    assert not v["permissive"] and "not machine-readable" in v["how"]
    assert not L.judge_debian(None)["permissive"]


def test_package_json():
    assert L.judge_package_json({"license": "MIT"})["permissive"]
    assert L.judge_package_json({"license": "(MIT OR Apache-2.0)"})["permissive"]
    assert L.judge_package_json({"license": {"type": "ISC"}})["permissive"]
    assert L.judge_package_json({"licenses": [{"type": "BSD"}, {"type": "GPL"}]})["permissive"]
    assert not L.judge_package_json({"license": "UNLICENSED"})["permissive"]
    assert L.judge_package_json({"license": "Unlicense"})["permissive"]
    assert not L.judge_package_json({"license": "SEE LICENSE IN LICENSE.txt"})["permissive"]
    assert not L.judge_package_json({})["permissive"]
    assert not L.judge_package_json({"license": "GPL-3.0-or-later"})["permissive"]


def test_python_metadata():
    meta = "Metadata-Version: 2.4\nName: demo\nVersion: 1.0\nLicense-Expression: BSD-3-Clause\n\nbody\n"
    assert L.judge_python_metadata(meta)["permissive"]
    meta = ("Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nClassifier: Programming Language :: Python\n"
            "Classifier: License :: OSI Approved :: MIT License\n\n")
    v = L.judge_python_metadata(meta)
    assert v["permissive"] and v["ids"] == ["MIT"]
    meta = ("Metadata-Version: 2.1\nName: demo\nClassifier: License :: OSI Approved :: MIT License\n"
            "Classifier: License :: OSI Approved :: GNU General Public License v3 (GPLv3)\n\n")
    assert not L.judge_python_metadata(meta)["permissive"]      # conservative: every classifier must pass
    assert L.judge_python_metadata("Name: demo\nLicense: Apache License 2.0\n\n")["permissive"]
    assert not L.judge_python_metadata("Name: demo\nLicense: LGPL\n\n")["permissive"]
    assert not L.judge_python_metadata("Name: demo\n\n")["permissive"]


def test_debian_variant_names():
    for e in ("MIT-Expat", "BSD-3-clauses", "BSD-3-clause-Cambridge", "BSD3", "BSD-2CLAUSE", "BSD-C3", "PD",
              "PSF-License", "Apache-2.0-Google", "BSD-1-Clause", "ISC-like", "MIT-1"):
        assert ok(e), e
    assert L.normalize("BSD-2-clause-NetBSD") == "BSD-2-Clause"
    assert L.normalize("BSD-0-clause") == "0BSD"
    for e in ("BSD-4-clause", "BSD-4-clause-UC", "GPL-2+-or-Artistic", "MITRE-proprietary-ish", "LGPL-3.0-with-exception"):
        assert not ok(e), e


MIT_TEXT = """Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction..."""


def test_free_text_copyright_files():
    v = L.judge_debian("This package was debianized by A.\n\nCopyright 2001 B\n\n" + MIT_TEXT)
    assert v["permissive"] and v["license"] == "MIT" and v["dep5"] is None
    bsd = ("Redistribution and use in source and binary forms, with or without\nmodification, are permitted "
           "provided that the following conditions are met:")
    assert L.judge_debian("Copyright C\n" + bsd)["permissive"]
    # any copyleft or advertising-clause mention rejects the whole package
    assert not L.judge_debian(MIT_TEXT + "\nThe tests are under the GNU General Public License.")["permissive"]
    assert not L.judge_debian(bsd + "\n3. All advertising materials mentioning features ...")["permissive"]
    assert not L.judge_debian("Copyright D. All rights reserved.")["permissive"]
