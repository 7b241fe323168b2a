"""The FIM transform: spans, orders, rates, chunking, snippets, and that the document is recoverable from each
example."""
import random

from models.ultramem.fim import FimConfig, fim_example, line_chunks, split_document

SPECIAL = {"fimPrefix": 1000, "fimSuffix": 1001, "fimMiddle": 1002, "endOfText": 1003, "fileSeparator": 1004}
DOC = "def add(a, b):\n    return a + b\n\nprint(add(1, 2))\n"
NEIGHBOURS = [("pkg/util.py", "".join(f"def f{i}():\n    return {i}\n" for i in range(40))),
              ("pkg/const.py", "A = 1\nB = 2\n")]


def char_ids(text):
    return [ord(c) for c in text]


def detokenize(ids):
    return "".join(chr(i) for i in ids)


def test_split_covers_the_document_at_character_positions():
    rng = random.Random(0)
    cuts = set()
    for _ in range(200):
        prefix, middle, suffix = split_document(DOC, rng)
        assert prefix + middle + suffix == DOC
        cuts.add(len(prefix))
    assert len(cuts) > 20  # cut points land all over, including mid-token and mid-line


def test_line_chunks_join_back_and_end_at_newlines():
    text = "".join(f"line {i} " + "x" * (i % 7) + "\n" for i in range(300)) + "tail without newline"
    chunks = line_chunks(text, 200)
    assert "".join(chunks) == text
    assert all(len(c) <= 200 for c in chunks)
    assert all(c.endswith("\n") for c in chunks[:-1])
    long_line = "y" * 450
    assert line_chunks(long_line, 200) == ["y" * 200, "y" * 200, "y" * 50]
    assert line_chunks("", 200) == [""] and line_chunks("short\n", 200) == ["short\n"]


def split_examples(ids):
    """The stream of one document -> its examples (each ending with endOfText)."""
    examples, start = [], 0
    for i, t in enumerate(ids):
        if t == SPECIAL["endOfText"]:
            examples.append(ids[start:i + 1])
            start = i + 1
    assert start == len(ids), "the stream ends with endOfText"
    return examples


def reassemble(ids):
    """Rebuild the text of a PSM, SPM or plain example; returns (text, order, snippet paths)."""
    assert ids[-1] == SPECIAL["endOfText"]
    body, paths = ids[:-1], []
    while body and body[0] == SPECIAL["fileSeparator"]:
        end = next(i for i in range(1, len(body)) if body[i] in (SPECIAL["fileSeparator"], SPECIAL["fimPrefix"]))
        paths.append(detokenize(body[1:end]).split("\n")[0])
        body = body[end:]
    if not body or body[0] != SPECIAL["fimPrefix"]:
        assert not paths, "snippets only precede FIM examples"
        return detokenize(body), "plain", paths
    mid_at = body.index(SPECIAL["fimMiddle"])
    if body[1] == SPECIAL["fimSuffix"]:  # SPM: suffix comes first, then prefix + middle in document order
        return detokenize(body[mid_at + 1:]) + detokenize(body[2:mid_at]), "spm", paths
    suf_at = body.index(SPECIAL["fimSuffix"])
    prefix, suffix, middle = body[1:suf_at], body[suf_at + 1:mid_at], body[mid_at + 1:]
    return detokenize(prefix) + detokenize(middle) + detokenize(suffix), "psm", paths


def test_every_example_reassembles_to_its_document_and_rates_hold():
    rng = random.Random(1)
    cfg = FimConfig(fim_rate=0.7, spm_rate=0.5, snippet_rate=0.0)   # DOC is one chunk: one example per document
    orders = {"plain": 0, "psm": 0, "spm": 0}
    for _ in range(2000):
        [example] = split_examples(fim_example(DOC, rng, cfg, char_ids, SPECIAL))
        text, order, _ = reassemble(example)
        assert text == DOC
        orders[order] += 1
    assert abs(orders["plain"] / 2000 - 0.3) < 0.04
    assert abs(orders["spm"] / (orders["psm"] + orders["spm"]) - 0.5) < 0.05


def test_a_long_document_becomes_examples_that_fit_the_window_and_rebuild_it():
    doc = "".join(f"    value_{i} = compute({i}, {i * i})  # step {i}\n" for i in range(2000))   # ~100 KB
    cfg = FimConfig(fim_rate=1.0, max_example_chars=5000, snippet_rate=0.0)
    rng = random.Random(3)
    for _ in range(20):
        examples = split_examples(fim_example(doc, rng, cfg, char_ids, SPECIAL))
        rebuilt = []
        for ex in examples:
            text, order, _ = reassemble(ex)
            rebuilt.append(text)
            assert order != "plain"
            assert len(ex) <= 5000 + 4   # a FIM example holds one chunk, so its prefix is never out of the window
        assert "".join(rebuilt) == doc
        assert len(examples) >= 20


def test_end_of_text_never_ends_plain_text_inside_a_document():
    """Regression (fourth run): plain chunks between FIM chunks ended with <endoftext> at a line end, and the model
    then ended SPM completions at the start of a line."""
    doc = "".join(f"x_{i} = {i}\n" for i in range(3000))   # ~30 KB, several chunks
    rng = random.Random(11)
    plain = fim = 0
    for _ in range(200):
        examples = split_examples(fim_example(doc, rng, FimConfig(), char_ids, SPECIAL, NEIGHBOURS))
        orders = [reassemble(ex)[1] for ex in examples]
        if orders == ["plain"]:
            plain += 1
            assert detokenize(examples[0][:-1]) == doc
        else:
            fim += 1
            assert "plain" not in orders   # every example of a FIM document is a FIM example
    assert plain > 20 and fim > 100


def test_snippets_from_other_files_precede_some_fim_examples_in_the_extension_layout():
    rng = random.Random(5)
    cfg = FimConfig(fim_rate=1.0, snippet_rate=0.5, snippet_chars=120)
    with_snippets = 0
    for _ in range(400):
        [example] = split_examples(fim_example(DOC, rng, cfg, char_ids, SPECIAL, NEIGHBOURS))
        text, order, paths = reassemble(example)
        assert text == DOC and order in ("psm", "spm")
        assert set(paths) <= {p for p, _ in NEIGHBOURS} and len(paths) == len(set(paths))
        if paths:
            with_snippets += 1
            snippets = example[:example.index(SPECIAL["fimPrefix"])]
            assert len(snippets) <= len(paths) * (1 + len("pkg/util.py\n\n")) + 120
    assert abs(with_snippets / 400 - 0.5) < 0.08
    # no neighbours, no snippets
    [example] = split_examples(fim_example(DOC, random.Random(0), cfg, char_ids, SPECIAL))
    assert SPECIAL["fileSeparator"] not in example


def test_examples_are_deterministic_per_seed():
    docs = [DOC, "x = 1\n", "// js\nconst a = 2;\n"]

    def stream(seed):
        rng = random.Random(seed)
        return [fim_example(d, rng, FimConfig(), char_ids, SPECIAL, NEIGHBOURS) for d in docs]
    assert stream(7) == stream(7) and stream(7) != stream(8)
