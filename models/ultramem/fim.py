"""Fill-in-the-middle training examples (Bavarian et al. 2022, "Efficient Training of Language Models to Fill in
the Middle"), made on characters before tokenization, then packed into one token stream (scripts/prepare_tokens.py).

A document stays plain text (document <endoftext>) with probability 1 - `fim_rate`; otherwise it is cut at line
ends into chunks of at most `max_example_chars`, so that a whole example fits one 2,048-token training window (with
whole-file FIM, the prefix of a long file sat further back than the window reached), and each chunk becomes one of
  PSM: <fim_prefix> prefix <fim_suffix> suffix <fim_middle> middle <endoftext>
  SPM: <fim_prefix> <fim_suffix> suffix <fim_middle> prefix middle <endoftext>     (with probability `spm_rate`)
So <endoftext> ends a middle or a whole document, never plain text at a chunk's line end: a model trained with plain
chunks between FIM chunks learnt that any line end may end the text, and in SPM order it then ended a completion at
the start of a line (models/LOG.md, fourth run). The two cut points are uniform over the chunk's character
positions, so spans start and end mid-token and mid-line like a cursor does.
With probability `snippet_rate` a FIM example first gets windows of other files of its package, each as
<file_sep> path newline lines, the layout the extension gives snippets from the user's other open files.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence, Tuple

# (path, text) of another file of the same package
Neighbour = Tuple[str, str]


@dataclass
class FimConfig:
    fim_rate: float = 0.7   # share of documents turned into FIM examples
    # share of FIM examples in SPM order (the rest PSM): the extension prompts in SPM, which our small models learn
    # far sooner than PSM (models/LOG.md)
    spm_rate: float = 0.8
    # about 1,500 tokens at 3.3 bytes/token: an example plus its snippets fits a 2,048-token window
    max_example_chars: int = 5000
    snippet_rate: float = 0.3   # share of FIM examples that get snippets from other files of the package
    # the extension gives snippets 15% of its 1,024-token prompt, in windows of 16 lines (src/completion/snippets.ts)
    snippet_chars: int = 500
    snippet_lines: int = 16


def split_document(text: str, rng: random.Random):
    """Two uniform character cut points -> (prefix, middle, suffix)."""
    a, b = sorted(rng.randint(0, len(text)) for _ in range(2))
    return text[:a], text[a:b], text[b:]


def line_chunks(text: str, max_chars: int) -> List[str]:
    """Consecutive pieces of at most `max_chars` that join back to `text`, cut after a newline where one fits."""
    chunks = []
    start = 0
    while len(text) - start > max_chars:
        cut = text.rfind("\n", start, start + max_chars)
        end = cut + 1 if cut >= start else start + max_chars   # a line longer than the limit is cut inside
        chunks.append(text[start:end])
        start = end
    if start < len(text) or not chunks:
        chunks.append(text[start:])
    return chunks


def snippet_window(text: str, rng: random.Random, lines: int, max_chars: int) -> str:
    """`lines` consecutive lines from a random line of `text`, cut to `max_chars` (the prompt cuts by tokens)."""
    all_lines = text.split("\n")
    start = rng.randrange(max(1, len(all_lines) - lines + 1))
    return "\n".join(all_lines[start:start + lines])[:max_chars]


class Special(str):
    """A special token's manifest key (for example "fimPrefix") among the text pieces of an example."""


def fim_chunk_pieces(text: str, rng: random.Random, cfg: FimConfig, neighbours: Sequence[Neighbour] = ()) -> list:
    """One chunk as a FIM example: optional snippets, then PSM or SPM, ending with <endoftext>."""
    pieces: list = []
    if neighbours and rng.random() < cfg.snippet_rate:
        chosen = rng.sample(list(neighbours), rng.randint(1, len(neighbours)))
        for path, other in chosen:
            window = snippet_window(other, rng, cfg.snippet_lines, cfg.snippet_chars // len(chosen))
            pieces += [Special("fileSeparator"), f"{path}\n{window}\n"]
    prefix, middle, suffix = split_document(text, rng)
    return pieces + fim_layout(prefix, middle, suffix, spm=rng.random() < cfg.spm_rate)


def fim_layout(prefix: str, middle: str, suffix: str, spm: bool) -> list:
    """PSM or SPM order of one example, ending with <endoftext>. Up to the middle it is the extension's prompt
    (src/completion/prompt.ts, without the prefix's last token, which the worker heals): tests/test_fim_prompt.py
    checks both against one golden prompt (tests/data/fim_prompt.json)."""
    pre, suf, mid, end = Special("fimPrefix"), Special("fimSuffix"), Special("fimMiddle"), Special("endOfText")
    if spm:
        return [pre, suf, suffix, mid, prefix, middle, end]
    return [pre, prefix, suf, suffix, mid, middle, end]


def fim_pieces(text: str, rng: random.Random, cfg: FimConfig, neighbours: Sequence[Neighbour] = ()) -> list:
    """The document as text pieces and `Special` markers, in order; tokenize each text piece on its own."""
    if rng.random() >= cfg.fim_rate:
        return [text, Special("endOfText")]
    pieces: list = []
    for chunk in line_chunks(text, cfg.max_example_chars):
        pieces += fim_chunk_pieces(chunk, rng, cfg, neighbours)
    return pieces


def fim_example(text: str, rng: random.Random, cfg: FimConfig, tokenize: Callable[[str], List[int]],
                special: Dict[str, int], neighbours: Sequence[Neighbour] = ()) -> List[int]:
    """Token ids of one training document, plain or as FIM examples, ending with the end-of-text token."""
    ids: List[int] = []
    for piece in fim_pieces(text, rng, cfg, neighbours):
        ids += [special[piece]] if isinstance(piece, Special) else tokenize(piece)
    return ids

