"""A pure-Python reader of our tokenizer.json (byte-level BPE), for machines without Hugging Face `tokenizers`.

Same ids as `tokenizers` for the configuration train_tokenizer.py writes: added (special) tokens matched in the raw
text first, then the ByteLevel pre-tokenizer (GPT-2 split pattern, no prefix space), bytes mapped to printable
characters (GPT-2's byte-to-unicode table), and merges applied lowest rank first inside each piece. CI uses it for
the Python side of the tokenizer tests (tests/test_bpe.py checks it against ids from `tokenizers`); the training
pipeline on the GPU machine uses `tokenizers` itself, which is about 100x faster.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Dict, List, Tuple

import regex

# GPT-2's pre-tokenization pattern, as the ByteLevel pre-tokenizer uses it (use_regex=True)
GPT2_SPLIT = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def bytes_to_unicode() -> Dict[int, str]:
    """GPT-2's reversible map from the 256 byte values to printable characters (space becomes 'Ġ')."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


class ByteLevelBPE:
    def __init__(self, vocab: Dict[str, int], merges: List[Tuple[str, str]], added: Dict[str, int]):
        self.vocab = vocab
        self.ranks = {pair: i for i, pair in enumerate(merges)}
        self.added = added
        self.id_to_token = {i: t for t, i in vocab.items()}
        self.id_to_token.update({i: t for t, i in added.items()})
        self.byte_char = bytes_to_unicode()
        self.char_byte = {c: b for b, c in self.byte_char.items()}
        # longest first, so that a special token that prefixes another cannot win
        self.added_split = regex.compile("(" + "|".join(regex.escape(t) for t in sorted(added, key=len, reverse=True))
                                         + ")") if added else None
        self._word_ids = lru_cache(maxsize=1 << 16)(self._word_ids_uncached)

    @classmethod
    def from_file(cls, path: str) -> "ByteLevelBPE":
        spec = json.load(open(path, encoding="utf-8"))
        model = spec["model"]
        assert model["type"] == "BPE" and not model.get("continuing_subword_prefix") and \
            not model.get("end_of_word_suffix") and not model.get("byte_fallback"), "not a plain byte-level BPE"
        pre = spec["pre_tokenizer"]
        assert pre["type"] == "ByteLevel" and pre.get("use_regex", True) and not pre.get("add_prefix_space"), pre
        assert spec.get("normalizer") is None, "a normalizer is not supported"
        merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ", 1)) for m in model["merges"]]
        added = {t["content"]: t["id"] for t in spec.get("added_tokens", [])}
        return cls(model["vocab"], merges, added)

    def _word_ids_uncached(self, piece: str) -> Tuple[int, ...]:
        symbols = [self.byte_char[b] for b in piece.encode("utf-8")]
        while len(symbols) > 1:
            pairs = [(self.ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(symbols, symbols[1:]))]
            rank, i = min(pairs)
            if rank == 1 << 30:
                break
            symbols[i:i + 2] = [symbols[i] + symbols[i + 1]]
        return tuple(self.vocab[s] for s in symbols)

    def encode(self, text: str) -> List[int]:
        ids: List[int] = []
        chunks = self.added_split.split(text) if self.added_split else [text]
        for chunk in chunks:
            if chunk in self.added:
                ids.append(self.added[chunk])
            elif chunk:
                for piece in GPT2_SPLIT.findall(chunk):
                    ids.extend(self._word_ids(piece))
        return ids

    def token_bytes(self) -> List[bytes]:
        """Each id's bytes (a special token's text as UTF-8), indexed by id: what token healing matches against."""
        table = [b""] * (max(self.id_to_token) + 1)
        for i, token in self.id_to_token.items():
            table[i] = token.encode() if token in self.added else bytes(self.char_byte[c] for c in token)
        return table

    def decode(self, ids: List[int]) -> str:
        out, pending = [], bytearray()
        for i in ids:
            token = self.id_to_token[i]
            if token in self.added:
                out.append(pending.decode("utf-8", errors="replace"))
                pending = bytearray()
                out.append(token)
            else:
                pending.extend(self.char_byte[c] for c in token)
        out.append(pending.decode("utf-8", errors="replace"))
        return "".join(out)
