"""The FIM transform: spans, orders, rates, and that the original document is recoverable from each example."""
import random

from ultramem.fim import FimConfig, fim_example, packed_stream, split_document

SPECIAL = {"fimPrefix": 1000, "fimSuffix": 1001, "fimMiddle": 1002, "endOfText": 1003, "fileSeparator": 1004}
DOC = "def add(a, b):\n    return a + b\n\nprint(add(1, 2))\n"


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


def reassemble(ids):
    """Rebuild the document from a PSM, SPM or plain example; returns (document, order)."""
    assert ids[-1] == SPECIAL["endOfText"]
    body = ids[:-1]
    if not body or body[0] != SPECIAL["fimPrefix"]:
        return detokenize(body), "plain"
    mid_at = body.index(SPECIAL["fimMiddle"])
    if body[1] == SPECIAL["fimSuffix"]:  # SPM: suffix comes first, then prefix + middle in document order
        return detokenize(body[mid_at + 1:]) + detokenize(body[2:mid_at]), "spm"
    suf_at = body.index(SPECIAL["fimSuffix"])
    prefix, suffix, middle = body[1:suf_at], body[suf_at + 1:mid_at], body[mid_at + 1:]
    return detokenize(prefix) + detokenize(middle) + detokenize(suffix), "psm"


def test_every_example_reassembles_to_its_document_and_rates_hold():
    rng = random.Random(1)
    cfg = FimConfig(fim_rate=0.7, spm_rate=0.5)
    orders = {"plain": 0, "psm": 0, "spm": 0}
    for _ in range(2000):
        text, order = reassemble(fim_example(DOC, rng, cfg, char_ids, SPECIAL))
        assert text == DOC
        orders[order] += 1
    assert abs(orders["plain"] / 2000 - 0.3) < 0.04
    assert abs(orders["spm"] / (orders["psm"] + orders["spm"]) - 0.5) < 0.05


def test_packed_stream_is_deterministic_per_seed():
    docs = [DOC, "x = 1\n", "// js\nconst a = 2;\n"]
    a = list(packed_stream(docs, 7, FimConfig(), char_ids, SPECIAL))
    b = list(packed_stream(docs, 7, FimConfig(), char_ids, SPECIAL))
    c = list(packed_stream(docs, 8, FimConfig(), char_ids, SPECIAL))
    assert a == b and a != c and len(a) == 3
