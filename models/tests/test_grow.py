"""Growth (grow.py): the grown model computes what the trained one did, and its new blocks learn."""
import pytest
import torch
import torch.nn.functional as F

from models.tests.conftest import tiny_config, tiny_memory
from models.ultramem import Transformer
from models.ultramem.grow import grow, grown_config, old_block_positions
from models.ultramem.presets import laptop


def test_new_blocks_are_spread_evenly_with_the_last_at_the_end():
    assert old_block_positions(8, 12) == [0, 1, 3, 4, 6, 7, 9, 10]  # new blocks 2, 5, 8, 11
    assert old_block_positions(4, 8) == [0, 2, 4, 6]
    assert old_block_positions(4, 4) == [0, 1, 2, 3]
    assert old_block_positions(4, 5) == [0, 1, 2, 3]
    with pytest.raises(ValueError):
        old_block_positions(4, 3)


def test_the_memory_placement_moves_with_its_blocks():
    cfg = grown_config(laptop(), n_layer=12, ffn_hidden=1024)
    assert cfg.memory.placement == "0:1,3:4,6:7,9:10"
    assert (cfg.n_layer, cfg.ffn_hidden, cfg.d_model) == (12, 1024, 256)


@pytest.mark.parametrize("placement", ["0:1,2:3", "1:3"])
def test_the_grown_model_gives_the_same_logits_and_cache(placement):
    torch.manual_seed(0)
    small = Transformer(tiny_config(memory=tiny_memory(placement=placement))).eval()
    with torch.no_grad():  # trained-looking weights: no zero gains, cores away from their init
        for p in small.parameters():
            p.add_(0.05 * torch.randn_like(p))
    small.refresh_tucker_filters()
    big = grow(small, grown_config(small.cfg, n_layer=7, ffn_hidden=192)).eval()
    ids = torch.randint(0, small.cfg.vocab_size, (2, 24))
    with torch.no_grad():
        want, want_kv = small(ids)
        got, got_kv = big(ids)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    positions = old_block_positions(4, 7)
    for old, new in enumerate(positions):  # the old blocks' caches are where they were, by content
        torch.testing.assert_close(got_kv[new][0], want_kv[old][0], rtol=1e-5, atol=1e-5)


def test_the_new_blocks_and_units_receive_gradient():
    torch.manual_seed(0)
    small = Transformer(tiny_config())
    big = grow(small, grown_config(small.cfg, n_layer=6, ffn_hidden=160))
    ids = torch.randint(0, small.cfg.vocab_size, (2, 16))
    logits, _ = big(ids[:, :-1])
    F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1)).backward()
    new = [i for i in range(6) if i not in old_block_positions(4, 6)]
    for i in new:
        assert big.blocks[i].attn.wo.weight.grad.abs().sum() > 0
        assert big.blocks[i].ffn.w2.weight.grad.abs().sum() > 0
    assert big.blocks[0].ffn.w2.weight.grad[:, 128:].abs().sum() > 0  # the new hidden units' output columns


def test_growth_refuses_what_is_not_a_growth():
    small = Transformer(tiny_config())
    with pytest.raises(ValueError, match="not a growth"):
        grow(small, tiny_config(n_layer=6))  # the placement did not follow the blocks
    with pytest.raises(ValueError, match="narrow"):
        grown_config(small.cfg, n_layer=4, ffn_hidden=64)
