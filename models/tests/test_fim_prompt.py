"""The one golden FIM prompt (tests/data/fim_prompt.json), Python side: the tokenizer (ultramem/bpe.py) and the
training layout (ultramem/fim.py) give the ids the extension sends, but for the prefix's last token, whose bytes
the worker heals. test/worker/shippedModel.test.ts checks the same file against the extension's prompt builder and
the worker's healing."""
import hashlib
import json
import os

import pytest

from models.ultramem.bpe import ByteLevelBPE
from models.ultramem.fim import Special, fim_layout

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.join(HERE, "..", "ultramem-code-s")
GOLDEN = json.load(open(os.path.join(HERE, "data", "fim_prompt.json"), encoding="utf-8"))


def test_golden_prompt_is_for_the_shipped_tokenizer():
    with open(os.path.join(SHIPPED, "tokenizer.json"), "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == GOLDEN["tokenizer_sha256"]


@pytest.mark.parametrize("template", ["psm", "spm"])
def test_training_layout_up_to_the_middle_is_the_extension_prompt_less_the_healed_token(template):
    tok = ByteLevelBPE.from_file(os.path.join(SHIPPED, "tokenizer.json"))
    manifest = json.load(open(os.path.join(SHIPPED, "manifest.json")))
    special = {key: token["id"] for key, token in manifest["specialTokens"].items()}
    prefix, suffix = GOLDEN["prefix"], GOLDEN["suffix"]
    last = tok.encode(prefix)[-1]
    assert tok.token_bytes()[last] == bytes(GOLDEN["healedBytes"])
    ids = []
    # an empty middle, and no <endoftext>: what the model sees when it starts the middle
    for piece in fim_layout(prefix, "", suffix, spm=template == "spm")[:-1]:
        if isinstance(piece, Special):
            ids.append(special[piece])
        else:
            ids += tok.encode(piece)[:-1] if piece is prefix else tok.encode(piece)   # the worker heals the last
    assert ids == GOLDEN["ids"][template]
