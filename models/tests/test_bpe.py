"""The Python tokenizer side: ultramem/bpe.py gives the ids that Hugging Face `tokenizers` (Python, on the GPU
machine) gave on sample files of every language, and round-trips them; tokenizer_parity.test.mjs checks the npm side."""
import hashlib
import json
import os

from models.ultramem.bpe import ByteLevelBPE

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.join(HERE, "..", "ultramem-code-s", "tokenizer.json")
GOLDEN = json.load(open(os.path.join(HERE, "data", "tokenizer_parity.json"), encoding="utf-8"))


def test_golden_ids_come_from_the_shipped_tokenizer():
    assert hashlib.sha256(open(SHIPPED, "rb").read()).hexdigest() == GOLDEN["tokenizer_sha256"]
    assert len({s["lang"] for s in GOLDEN["samples"]}) >= 15


def test_python_ids_match_hugging_face_tokenizers_and_round_trip():
    tok = ByteLevelBPE.from_file(SHIPPED)
    for s in GOLDEN["samples"]:
        ids = tok.encode(s["text"])
        assert ids == s["ids"], f"{s['lang']} {s['package']}/{s['path']}"
        assert tok.decode(ids) == s["text"]


def test_special_tokens_whitespace_and_unicode_round_trip():
    tok = ByteLevelBPE.from_file(SHIPPED)
    text = "<|fim_prefix|>def f(x):\r\n\t\treturn x  # héllo 日本 😀\n\n\n    <|fim_suffix|>}<|fim_middle|><|endoftext|>"
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert ids[0] == tok.added["<|fim_prefix|>"] and ids[-1] == tok.added["<|endoftext|>"]
    assert len(tok.encode(" " * 8)) == 1, "a run of 8 spaces is one indentation token"


def test_token_bytes_join_to_the_text():
    tok = ByteLevelBPE.from_file(SHIPPED)
    table = tok.token_bytes()
    text = "<|fim_prefix|>fn main() {\n    println!(\"héllo 日本\");\n}<|endoftext|>"
    assert b"".join(table[i] for i in tok.encode(text)) == text.encode()
