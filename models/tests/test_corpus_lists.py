"""Package-list generation (models/corpus/lists.py) from local indexes, on synthetic input."""

from models.corpus import lists

SOURCES = """Package: python-foo
Section: python
Files:
 aaa 1000 python-foo_1.0.dsc
 bbb 50000 python-foo_1.0.orig.tar.gz

Package: golang-github-x-y
Section: golang
Files:
 aaa 30000 golang-github-x-y_1.0.orig.tar.gz

Package: zlib
Section: libs
Files:
 aaa 900000 zlib_1.2.orig.tar.gz

Package: linux
Section: kernel
Files:
 aaa 900000000 linux_6.1.orig.tar.xz
"""


def test_parse_and_round_robin():
    pkgs = lists.parse_sources(SOURCES)
    assert pkgs["python-foo"] == ("python", 51000)
    assert pkgs["golang-github-x-y"] == ("golang", 30000)
    lines = lists.debian_list(pkgs)
    names = [l.split()[0] for l in lines]
    assert set(names) == {"python-foo", "golang-github-x-y", "zlib"}       # linux: excluded (kernel, size)
    assert names.index("python-foo") < names.index("golang-github-x-y")    # one per category per round
    assert "# c_cpp" in lines[names.index("zlib")]


def test_npm_list_most_downloaded_first(tmp_path):
    tsv = tmp_path / "npm.tsv"
    tsv.write_text("name\tversion\tdownloads_a_month\tsummary\nsmall\t1.0.0\t5\tx\nbig\t2.0.0\t900\ty\n"
                   "@scope/mid\t3.1.0\t50\tz\nbroken\n")
    assert lists.npm_list(str(tsv), 10) == ["big@2.0.0", "@scope/mid@3.1.0", "small@1.0.0"]
    assert lists.npm_list(str(tsv), 1) == ["big@2.0.0"]


def test_limit_keeps_a_whole_category(tmp_path):
    from models.corpus.build import limit_list, read_list
    path = tmp_path / "debian.txt"
    path.write_text("# header\npython-a  # python, 0.1 MB\nzlib  # c_cpp, 1.3 MB\n"
                    "golang-x  # go, 0.0 MB\npython-b  # python, 6.0 MB\nbare-name\n")
    entries = read_list(str(path))
    assert entries[0] == ("python-a", "python") and entries[-1] == ("bare-name", "")
    assert limit_list(entries, 2) == ["python-a", "zlib"]
    assert limit_list(entries, 2, {"python"}) == ["python-a", "zlib", "python-b"]
    assert limit_list(entries, 0) == [n for n, _ in entries]


def test_limit_per_source():
    from models.corpus.build import parse_limit
    assert parse_limit("2000") == {"": 2000}
    assert parse_limit("2000,npm=3000") == {"": 2000, "npm": 3000}
    assert parse_limit("0") == {"": 0}


def test_a_widened_list_keeps_the_committed_one_as_its_prefix(tmp_path):
    """Regenerating from newer indexes appends new packages; those built already keep their place and version."""
    committed = tmp_path / "npm.txt"
    committed.write_text("# header\nleft-pad@1.0.0\n@scope/b@2.0.0\n")
    regenerated = ["@scope/b@2.1.0", "zeta@0.1.0", "left-pad@1.3.0"]
    assert lists.widened(str(committed), regenerated, "npm") == ["left-pad@1.0.0", "@scope/b@2.0.0", "zeta@0.1.0"]
    assert lists.widened(str(tmp_path / "none.txt"), regenerated, "npm") == regenerated
    debian = tmp_path / "debian.txt"
    debian.write_text("# header\nzlib  # c_cpp, 0.9 MB\n")
    assert lists.widened(str(debian), ["curl  # c_cpp, 2.1 MB", "zlib  # c_cpp, 1.0 MB"], "debian") == [
        "zlib  # c_cpp, 0.9 MB", "curl  # c_cpp, 2.1 MB"]
