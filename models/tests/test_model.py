"""Backbone, KV cache, skip-layer wiring, accounting and optimizer groups."""
import pytest
import torch

from models.tests.conftest import tiny_config, tiny_memory
from models.ultramem import ModelConfig, Transformer, count, model_twins
from models.ultramem.train import TrainConfig, param_groups, set_lrs, value_lr_multiplier

ARCHS = ["ultramem", "dense", "moe"]


def decode_incrementally(model, ids, prefill: int):
    logits, past = model(ids[:, :prefill])
    outs = [logits]
    for i in range(prefill, ids.shape[1]):
        logits, past = model(ids[:, i:i + 1], past)
        outs.append(logits)
    return torch.cat(outs, 1), past


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("n_kv_head", [4, 2, 1])
def test_incremental_decoding_with_kv_cache_equals_full_forward(arch, n_kv_head):
    model = Transformer(tiny_config(arch, n_kv_head=n_kv_head)).eval()
    ids = torch.randint(0, 300, (1, 24))
    with torch.no_grad():
        full, _ = model(ids)
        inc, past = decode_incrementally(model, ids, prefill=9)
    torch.testing.assert_close(inc, full, rtol=1e-4, atol=1e-4)
    assert past[0][0].shape == (1, n_kv_head, 24, 16)


@pytest.mark.parametrize("arch", ARCHS)
def test_rolled_back_cache_continues_like_a_fresh_prefill(arch):
    model = Transformer(tiny_config(arch)).eval()
    ids = torch.randint(0, 300, (1, 20))
    edit = torch.randint(0, 300, (1, 6))
    with torch.no_grad():
        _, past = model(ids)
        rolled = [(k[:, :, :14], v[:, :, :14]) for k, v in past]  # keep a 14-token prefix, then diverge
        cont, _ = model(edit, rolled)
        fresh, _ = model(torch.cat([ids[:, :14], edit], 1))
    torch.testing.assert_close(cont, fresh[:, 14:], rtol=1e-4, atol=1e-4)


def test_num_logits_returns_the_last_positions_only():
    model = Transformer(tiny_config()).eval()
    ids = torch.randint(0, 300, (1, 10))
    with torch.no_grad():
        full, _ = model(ids)
        last, _ = model(ids, num_logits=3)
    torch.testing.assert_close(last, full[:, -3:])


@pytest.mark.parametrize("placement", ["0:1,2:3", "1:1,2:3", "0:2", "3:3"])
def test_skip_layer_wiring_matches_config(placement):
    cfg = tiny_config(memory=tiny_memory(placement=placement))
    model = Transformer(cfg).eval()
    seen = {}
    hooks = []
    for i, block in enumerate(model.blocks):
        hooks.append(block.ffn_norm.register_forward_hook(lambda m, a, out, i=i: seen.__setitem__(("ffn_in", i), out)))
        hooks.append(block.register_forward_hook(lambda m, a, out, i=i: seen.__setitem__(("block_out", i), out[0])))
        hooks.append(block.register_forward_pre_hook(lambda m, a, i=i: seen.__setitem__(("block_in", i), a[0])))
    for k, mem in enumerate(model.memories):
        hooks.append(mem.register_forward_hook(
            lambda m, a, out, k=k: seen.update({("mem_in", k): a[0], ("mem_out", k): out})))
    with torch.no_grad():
        model(torch.randint(0, 300, (1, 8)))
    pairs = cfg.memory.pairs()
    assert len(model.memories) == len(pairs)
    targets = {t: k for k, (_, t) in enumerate(pairs)}
    for k, (s, t) in enumerate(pairs):
        assert torch.equal(seen[("mem_in", k)], seen[("ffn_in", s)])  # reads block s's pre-FFN normed state
    for i in range(cfg.n_layer - 1):  # block i+1 starts from block i's output plus the memory due after block i
        expected = seen[("block_out", i)] + (seen[("mem_out", targets[i])] if i in targets else 0)
        torch.testing.assert_close(seen[("block_in", i + 1)], expected)
    for h in hooks:
        h.remove()


def test_config_round_trips_through_json(tmp_path):
    cfg = tiny_config("ultramem")
    cfg.save(tmp_path / "config.json")
    assert ModelConfig.load(tmp_path / "config.json") == cfg
    with pytest.raises(AssertionError):
        ModelConfig.from_dict({**cfg.to_dict(), "surprise": 1})
    with pytest.raises(AssertionError):  # overlapping skip intervals
        tiny_config(memory=tiny_memory(placement="0:2,1:3"))


@pytest.mark.parametrize("arch", ARCHS)
def test_analytic_parameter_count_matches_the_module(arch):
    cfg = tiny_config(arch)
    model = Transformer(cfg)
    assert count(cfg).total_params == sum(p.numel() for p in model.parameters())
    tables = sum(m.values.numel() for m in model.memories)
    assert count(cfg).table_params == tables


def test_twins_match_activated_compute():
    cfg = tiny_config("ultramem", d_model=128, ffn_hidden=256,
                      memory=tiny_memory(n_keys=64, key_dim=32, value_dim=64, topk=16))
    dense, moe = model_twins(cfg, n_experts=8, top_k=2, multiple_of=1)
    um = count(cfg).macs_per_token
    assert abs(count(dense).macs_per_token - um) / um < 0.01
    assert abs(count(moe).macs_per_token - um) / um < 0.01
    assert count(moe).total_params > 3 * count(dense).total_params


def test_value_tables_get_their_own_group_and_decaying_lr_multiplier():
    model = Transformer(tiny_config())
    groups = param_groups(model, weight_decay=0.1)
    by_name = {g["name"]: g for g in groups}
    assert {id(p) for p in by_name["values"]["params"]} == {id(m.values) for m in model.memories}
    assert by_name["values"]["weight_decay"] == 0.1
    tc = TrainConfig(steps=100, warmup_steps=0, value_lr_mult=4.0, value_lr_decay=0.5)
    assert value_lr_multiplier(0, tc) == 4.0
    assert value_lr_multiplier(25, tc) == pytest.approx(2.5)
    assert value_lr_multiplier(50, tc) == 1.0 and value_lr_multiplier(99, tc) == 1.0
    constant = TrainConfig(steps=100, value_lr_mult=4.0, value_lr_decay=0)
    assert value_lr_multiplier(0, constant) == value_lr_multiplier(99, constant) == 4.0
    opt = torch.optim.AdamW(groups, lr=1.0)
    lr = set_lrs(opt, 0, tc)
    lrs = {g["name"]: g["lr"] for g in opt.param_groups}
    assert lrs["values"] == pytest.approx(4 * lr) and lrs["decay"] == pytest.approx(lr)


def test_moe_aux_losses_are_positive_in_training():
    model = Transformer(tiny_config("moe")).train()
    model(torch.randint(0, 300, (2, 8)))
    assert model.aux_loss().item() > 0


def test_moe_sorted_training_dispatch_matches_the_per_expert_loop():
    torch.manual_seed(0)
    moe = Transformer(tiny_config("moe")).blocks[0].ffn
    x = torch.randn(3, 7, moe.w1.shape[1], requires_grad=True)
    outs, grads = [], []
    for training in (True, False):
        moe.train(training)
        moe.zero_grad()
        x.grad = None
        y = moe(x)
        y.square().sum().backward()
        outs.append(y.detach())
        grads.append(torch.cat([x.grad.flatten(), moe.w1.grad.flatten(), moe.w2.grad.flatten()]))
    assert torch.allclose(outs[0], outs[1], atol=1e-5)
    assert torch.allclose(grads[0], grads[1], atol=1e-4)


@pytest.mark.parametrize("experts,hidden,d,std", [(4, 64, 64, 0.15), (16, 464, 256, 0.05)])  # tiny; laptop twin
def test_moe_fused_export_function_matches_the_per_expert_loop(experts, hidden, d, std):
    """FusedMoE, which the export writes as onnxruntime's MoE node, on the experts in its fused layout (gate and up
    interleaved) equals the eval forward (the per-expert loop), from one decode token to a 512-token prefill. The
    weights' scale gives outputs of order 0.1-1, so that the tolerance means something."""
    from models.ultramem import MoEConfig
    from models.ultramem.moe import FusedMoE, MoEFeedForward
    torch.manual_seed(0)
    moe = MoEFeedForward(MoEConfig(n_experts=experts, top_k=2, expert_hidden=hidden), d, init_std=std,
                         out_std=std).eval()
    for tokens in (1, 2, 512):
        x = torch.randn(tokens, moe.w1.shape[1])
        with torch.no_grad():
            fused = FusedMoE.apply(x, moe.router(x), *moe.fused_weights(), moe.cfg.top_k)
            loop = moe(x)
        assert torch.allclose(fused, loop, atol=1e-5, rtol=0), (tokens, (fused - loop).abs().max())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="the grouped GEMM path runs on CUDA under bf16 autocast")
def test_moe_grouped_gemm_training_dispatch_matches_the_loop_on_cuda():
    from models.ultramem import moe as moe_module
    torch.manual_seed(0)
    moe = Transformer(tiny_config("moe", d_model=128)).blocks[0].ffn.cuda()
    x = torch.randn(4, 64, 128, device="cuda")
    outs, key = [], (x.device, *moe.w1.shape[1:])
    for grouped in (True, False):
        moe_module._GROUPED_MM_OK.clear()
        if not grouped:
            moe_module._GROUPED_MM_OK[key] = False
        with torch.autocast("cuda", dtype=torch.bfloat16):
            outs.append(moe.train()(x).float())
        if grouped:
            print("grouped GEMM used:", moe_module._GROUPED_MM_OK.get(key))
    assert torch.allclose(outs[0], outs[1], atol=3e-2, rtol=3e-2)
