"""scripts/make_fixture.py: PyTorch's teacher-forced verification of a greedy path, and the worker's decoding that
gives the path (dist/cli.js --generate-ids)."""
import json
import os
import shutil

import pytest
import torch

from models.scripts.make_fixture import CLI, GREEDY_STEPS, MIN_MARGIN, engine_greedy_paths, verify_greedy_path
from models.tests.conftest import tiny_config
from models.ultramem import Transformer

FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tiny-fixture")


class NextIdModel:
    """A stand-in with a known greedy path: after token t its top logit is t + 1 and its second t + 2, `margin` lower
    (so the greedy continuation of [.., t] is t + 1, t + 2, ...). Answers the model's call as the script makes it."""

    def __init__(self, vocab_size: int = 50, margin: float = 1.0):
        self.vocab_size, self.margin = vocab_size, margin

    def __call__(self, ids: torch.Tensor, num_logits: int):
        logits = torch.zeros(1, ids.shape[1], self.vocab_size)
        for pos, t in enumerate(ids[0].tolist()):
            logits[0, pos, (t + 1) % self.vocab_size] = 2.0
            logits[0, pos, (t + 2) % self.vocab_size] = 2.0 - self.margin
        return logits[:, -num_logits:], None


def test_the_greedy_path_passes_with_its_margin_and_the_logits_after_the_prompt():
    first, margin, wrong_step = verify_greedy_path(NextIdModel(), [2, 3], [4, 5, 6, 7])
    assert wrong_step is None and margin == pytest.approx(1.0)
    assert int(first.argmax()) == 4


def test_a_path_with_one_wrong_token_fails_at_that_step():
    _, _, wrong_step = verify_greedy_path(NextIdModel(), [2, 3], [4, 5, 9, 10])
    assert wrong_step == 2


def test_a_near_tie_on_the_path_shows_in_the_margin():
    _, margin, wrong_step = verify_greedy_path(NextIdModel(margin=0.05), [2, 3], [4, 5, 6])
    assert wrong_step is None and margin < MIN_MARGIN


def test_with_the_transformer_the_first_step_is_the_argmax_after_the_prompt():
    model = Transformer(tiny_config()).eval()
    prompt = torch.randint(0, 300, (12,)).tolist()
    with torch.no_grad():
        after_prompt = model(torch.tensor([prompt]), num_logits=1)[0][0, -1]
    best = int(after_prompt.argmax())
    first, _, wrong_step = verify_greedy_path(model, prompt, [best])
    assert wrong_step is None
    torch.testing.assert_close(first, after_prompt, rtol=1e-5, atol=1e-5)
    assert verify_greedy_path(model, prompt, [(best + 1) % 300, best])[2] == 0


@pytest.mark.skipif(shutil.which("node") is None or not os.path.exists(CLI),
                    reason="needs node and dist/cli.js (npm run build)")
@pytest.mark.parametrize("float_graph", [True, False])
def test_the_worker_decodes_the_committed_golden_paths(float_graph):
    with open(os.path.join(FIXTURE, "golden.json")) as f:
        prompts = json.load(f)["prompts"]
    paths = engine_greedy_paths(FIXTURE, [p["ids"] for p in prompts], float_graph)
    assert paths == [p["greedy"] for p in prompts] and all(len(p) == GREEDY_STEPS for p in paths)
