"""Fill-in-the-middle training examples (Bavarian et al. 2022, "Efficient Training of Language Models to Fill in
the Middle"), made on characters before tokenization, then packed into one token stream.

A document becomes, with probability `fim_rate`, one of
  PSM: <fim_prefix> prefix <fim_suffix> suffix <fim_middle> middle <endoftext>
  SPM: <fim_prefix> <fim_suffix> suffix <fim_middle> prefix middle <endoftext>     (with probability `spm_rate`)
and otherwise stays plain: document <endoftext>. The two cut points are uniform over character positions, so
spans start and end mid-token and mid-line like a cursor does. The extension prompts in PSM.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, Iterator, List


@dataclass
class FimConfig:
    fim_rate: float = 0.7   # share of documents turned into FIM examples
    spm_rate: float = 0.5   # share of FIM examples in SPM order (the rest PSM)


def split_document(text: str, rng: random.Random):
    """Two uniform character cut points -> (prefix, middle, suffix)."""
    a, b = sorted(rng.randint(0, len(text)) for _ in range(2))
    return text[:a], text[a:b], text[b:]


class Special(str):
    """A special token's manifest key (for example "fimPrefix") among the text pieces of an example."""


def fim_pieces(text: str, rng: random.Random, cfg: FimConfig) -> List[str]:
    """The example as text pieces and `Special` markers, in order; tokenize each text piece on its own."""
    eot = Special("endOfText")
    if rng.random() >= cfg.fim_rate:
        return [text, eot]
    prefix, middle, suffix = split_document(text, rng)
    pre, suf, mid = Special("fimPrefix"), Special("fimSuffix"), Special("fimMiddle")
    if rng.random() < cfg.spm_rate:
        return [pre, suf, suffix, mid, prefix, middle, eot]
    return [pre, prefix, suf, suffix, mid, middle, eot]


def fim_example(text: str, rng: random.Random, cfg: FimConfig, tokenize: Callable[[str], List[int]],
                special: Dict[str, int]) -> List[int]:
    """Token ids of one training document, FIM-transformed or plain, ending with the end-of-text token."""
    ids: List[int] = []
    for piece in fim_pieces(text, rng, cfg):
        ids += [special[piece]] if isinstance(piece, Special) else tokenize(piece)
    return ids


def packed_stream(documents: Iterable[str], seed: int, cfg: FimConfig, tokenize: Callable[[str], List[int]],
                  special: Dict[str, int]) -> Iterator[List[int]]:
    """Yields each document's example in order; concatenated they form the packed training stream."""
    rng = random.Random(seed)
    for text in documents:
        yield fim_example(text, rng, cfg, tokenize, special)
