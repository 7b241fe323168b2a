"""The memory layer's setup: init scale matched to the FFN, query heads, and retrieval precision at the shipped size."""
import pytest
import torch

from models.tests.conftest import tiny_config, tiny_memory
from models.ultramem import Transformer
from models.ultramem.accounting import count
from models.ultramem.memory import UltraMemLayer
from models.ultramem.presets import laptop

D_MODEL = 64


def rms(t: torch.Tensor) -> float:
    return t.pow(2).mean().sqrt().item()


@pytest.mark.parametrize("make", [lambda: tiny_config(), laptop], ids=["tiny", "laptop"])
def test_memory_starts_at_the_ffn_output_scale_with_unit_top_m_scores(make):
    """UltraMemV2 App. A: the memory's init variance matches the FFN's. Checked on states the calibration never saw."""
    torch.manual_seed(0)
    model = Transformer(make()).eval()
    x = torch.randn(256, model.cfg.d_model, generator=torch.Generator().manual_seed(99))
    with torch.no_grad():
        for (s, _), memory in zip(model.memory_pairs, model.memories):
            _, w = memory.retrieve(x)
            assert w.sum(1).mean().item() == pytest.approx(1.0, rel=0.1)
            ratio = rms(memory(x)) / rms(model.blocks[s].ffn(x))
            assert 0.8 < ratio < 1.25, f"memory/FFN output RMS {ratio:.3f} at init"


def test_an_explicit_value_std_is_kept_and_matching_leaves_other_weights_alone():
    torch.manual_seed(0)
    matched = Transformer(tiny_config())
    torch.manual_seed(0)
    explicit = Transformer(tiny_config(memory=tiny_memory(value_init_std=0.5)))
    assert torch.equal(matched.embed.weight, explicit.embed.weight)
    assert torch.equal(matched.blocks[3].ffn.w2.weight, explicit.blocks[3].ffn.w2.weight)
    assert explicit.memories[0].values.std().item() == pytest.approx(0.5, rel=0.05)
    assert matched.memories[0].values.std().item() < 0.05


def test_each_head_retrieves_like_a_one_head_layer_with_that_heads_query():
    torch.manual_seed(0)
    layer = UltraMemLayer(tiny_memory(heads=3), D_MODEL, value_init_std=0.1)
    x = torch.randn(5, D_MODEL)
    with torch.no_grad():
        addr, w = layer.retrieve(x)
        m, dk = layer.cfg.topk, layer.cfg.key_dim
        assert addr.shape == (5, 3 * m) and w.shape == (5, layer.cfg.mcs_cores, 3 * m)
        for head in range(3):
            single = UltraMemLayer(tiny_memory(), D_MODEL, value_init_std=0.1)
            single.load_state_dict({**layer.state_dict(),
                                    "query.weight": layer.query.weight[head * 2 * dk:(head + 1) * 2 * dk]})
            a, s = single.retrieve(x)
            assert torch.equal(addr[:, head * m:(head + 1) * m], a)
            torch.testing.assert_close(w[:, :, head * m:(head + 1) * m], s)


def test_heads_fold_for_inference_and_are_counted():
    torch.manual_seed(0)
    cfg = tiny_config(memory=tiny_memory(heads=2))
    model = Transformer(cfg).eval()
    assert count(cfg).total_params == sum(p.numel() for p in model.parameters())
    assert count(cfg).memory_macs > count(tiny_config()).memory_macs
    ids = torch.randint(0, cfg.vocab_size, (1, 12))
    with torch.no_grad():
        ref = model(ids)[0]
        model.fold_for_inference()
        torch.testing.assert_close(model(ids)[0], ref, rtol=1e-4, atol=1e-5)


@pytest.fixture(scope="module")
def shipped_size_layer():
    """One memory layer of the shipped shape (65,536 rows, 512 keys a side, top-32), random weights, matched init."""
    torch.manual_seed(0)
    cfg = laptop()
    layer = UltraMemLayer(cfg.memory, cfg.d_model, cfg.initial_value_std())
    with torch.no_grad():
        layer.cores.copy_(torch.rand_like(layer.cores))
    layer.refresh_tucker_filter()
    x = torch.randn(512, cfg.d_model, generator=torch.Generator().manual_seed(5))
    layer.match_init_scale(x, 0.01)
    return layer, torch.randn(200, cfg.d_model, generator=torch.Generator().manual_seed(6))


def test_bf16_training_picks_the_slots_of_the_fp32_graph(shipped_size_layer):
    """Training runs under bf16 autocast, the extension's graph in fp32: retrieval must not depend on it."""
    layer, x = shipped_size_layer
    with torch.no_grad():
        with torch.autocast("cpu", dtype=torch.bfloat16):
            addr16, w16 = layer.retrieve(x.bfloat16())
            out16 = layer(x.bfloat16())
    assert w16.dtype == torch.float32 and out16.dtype == torch.bfloat16  # the read-out may run in bf16
    # the same slots and scores as fp32 retrieval of the same (rounded) states; in training the pre-FFN states
    # reach the memory in fp32 anyway, since the residual stream stays fp32 under autocast
    addr32, w32 = layer.retrieve(x.bfloat16().float())
    assert torch.equal(addr16, addr32)
    torch.testing.assert_close(w16, w32)


def test_folded_fp32_retrieval_picks_the_training_slots_at_the_shipped_size(shipped_size_layer):
    layer, x = shipped_size_layer
    with torch.no_grad():
        train_addr, train_w = layer.retrieve(x)
        layer.fold_for_inference()
        try:
            graph_addr, graph_w = layer.retrieve(x)
        finally:
            layer.unfold()
    same = [set(a.tolist()) == set(b.tolist()) for a, b in zip(train_addr, graph_addr)]
    assert sum(same) >= len(same) - 1, f"{len(same) - sum(same)} of {len(same)} tokens read other slots"
    torch.testing.assert_close(graph_w.sum(1).sort(-1).values, train_w.sum(1).sort(-1).values, rtol=1e-4, atol=1e-4)
