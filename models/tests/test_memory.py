"""The UltraMem memory layer against brute-force references (TDQKR retrieval, MCS, IVE, folding)."""
import pytest
import torch
import torch.nn.functional as F

from models.tests.conftest import tiny_memory
from models.ultramem.memory import UltraMemLayer

D_MODEL = 64


def make_layer(signed_cores: bool = True, **overrides) -> UltraMemLayer:
    layer = UltraMemLayer(tiny_memory(**overrides), D_MODEL, value_init_std=0.1)
    if signed_cores:  # far from rank 1, so that only an exhaustive filter finds the true top-m
        with torch.no_grad():
            layer.cores.copy_(torch.randn_like(layer.cores))
        layer.refresh_tucker_filter()
    return layer


def brute_force_scores(layer: UltraMemLayer, x: torch.Tensor) -> torch.Tensor:
    """Per-core scores of every one of the n*n virtual slots: (T, h, n*n), straight from the equations."""
    cfg = layer.cfg
    q = layer.query(x).view(x.shape[0], 2, cfg.key_dim)
    q = F.layer_norm(q, (cfg.key_dim,), layer.query_norm, None) if cfg.qk_norm else q
    keys = F.layer_norm(layer.keys, (cfg.key_dim,), layer.key_norm, None) if cfg.qk_norm else layer.keys
    s_row = torch.einsum("td,rnd->trn", q[:, 0], keys[0])  # (T, r, n)
    s_col = torch.einsum("td,rnd->trn", q[:, 1], keys[1])
    if cfg.retrieval == "pkm":
        return (s_row[:, 0, :, None] + s_col[:, 0, None, :]).flatten(1).unsqueeze(1)
    grid = torch.einsum("tri,crs,tsj->tcij", s_row, layer.cores, s_col)  # (T, h, n, n)
    return grid.flatten(2)


@pytest.mark.parametrize("overrides", [{}, {"mcs_cores": 1}, {"tucker_rank": 3},
                                       {"retrieval": "pkm", "tucker_rank": 1, "mcs_cores": 1}])
def test_retrieval_equals_brute_force_top_m_when_filter_keeps_every_key(overrides):
    layer = make_layer(filter_topk=16, **overrides)  # n_keys = 16: the filter keeps every key
    x = torch.randn(5, D_MODEL)
    with torch.no_grad():
        addr, w = layer._retrieve(x)
        ref = brute_force_scores(layer, x)
    ref_scores, ref_addr = torch.topk(ref.sum(1), layer.cfg.topk, dim=-1)
    assert torch.equal(addr, ref_addr)
    torch.testing.assert_close(w.sum(1), ref_scores, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(w, torch.gather(ref, 2, ref_addr.unsqueeze(1).expand_as(w)), rtol=1e-5, atol=1e-5)


def test_default_filter_gives_exact_top_m_of_the_candidate_grid():
    """With m candidates per side, the result is the exact top-m over rows I_row x columns I_col
    (models/ARCHITECTURE.md, "TDQKR")."""
    layer = make_layer(signed_cores=False)
    cfg = layer.cfg
    x = torch.randn(16, D_MODEL)
    with torch.no_grad():
        addr, _ = layer._retrieve(x)
        scores = brute_force_scores(layer, x).sum(1).view(-1, cfg.n_keys, cfg.n_keys)
        q = F.layer_norm(layer.query(x).view(-1, 2, cfg.key_dim), (cfg.key_dim,), layer.query_norm, None)
        keys = F.layer_norm(layer.keys, (cfg.key_dim,), layer.key_norm, None)
        rows = torch.topk(torch.einsum("td,rnd,r->tn", q[:, 0], keys[0], layer.filter_u), cfg.topk).indices
        cols = torch.topk(torch.einsum("td,rnd,r->tn", q[:, 1], keys[1], layer.filter_t), cfg.topk).indices
    for t in range(x.shape[0]):
        masked = torch.full_like(scores[t], float("-inf"))
        masked[rows[t][:, None], cols[t][None, :]] = scores[t][rows[t][:, None], cols[t][None, :]]
        assert torch.equal(addr[t], torch.topk(masked.flatten(), cfg.topk).indices)


@pytest.mark.parametrize("overrides", [{}, {"single_projector": True}, {"expansion": 1, "n_keys": 8},
                                       {"mcs_cores": 1}, {"score_softmax": True}])
def test_ive_pooling_equals_materialized_virtual_table(overrides):
    layer = make_layer(**overrides)
    cfg = layer.cfg
    T, m, h, N, E = 3, cfg.topk, cfg.mcs_cores, cfg.n_values, cfg.expansion
    addr = torch.randint(0, cfg.n_keys ** 2, (T, m))
    w = torch.randn(T, h, m)
    with torch.no_grad():
        out = layer._read_values(addr, w)
        # Virtual table: slot z is physical row z mod N seen through projector z div N, one block per MCS core.
        n_proj = 1 if (cfg.single_projector or E == 1) else E
        W = layer.out_proj.weight.t().view(n_proj, cfg.value_dim, D_MODEL)  # projector p = rows p*D_v..
        part = cfg.value_dim // h
        weights = torch.softmax(w, -1) if cfg.score_softmax else w
        ref = torch.zeros(T, D_MODEL)
        for t in range(T):
            for i in range(m):
                z = int(layer.perm[addr[t, i]])
                row, p = layer.values[z % N], (z // N if n_proj > 1 else 0)
                for c in range(h):
                    sl = slice(c * part, (c + 1) * part)
                    ref[t] += weights[t, c, i] * (row[sl] @ W[p, sl])
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)


def test_permutation_is_a_bijection_over_virtual_slots():
    layer = make_layer()
    assert torch.equal(layer.perm.sort().values, torch.arange(layer.cfg.n_keys ** 2))


@pytest.mark.parametrize("overrides", [{}, {"retrieval": "pkm", "tucker_rank": 1, "mcs_cores": 1},
                                       {"qk_norm": False}])
def test_folded_inference_path_equals_training_path(overrides):
    layer = make_layer(**overrides)
    x = torch.randn(7, D_MODEL)
    with torch.no_grad():
        ref = layer(x)
        layer.fold_for_inference()
        out = layer(x)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)


def test_tucker_filter_is_leading_singular_pair_with_stable_sign():
    layer = make_layer()
    C = layer.cores.detach().sum(0)
    U, S, Vh = torch.linalg.svd(C)
    lam_u_t = S[0] * torch.outer(layer.filter_u, layer.filter_t)
    torch.testing.assert_close(lam_u_t, S[0] * torch.outer(U[:, 0], Vh[0]))
    before = layer.filter_u.clone()
    for _ in range(5):  # small steps: the sign must not flip from one refresh to the next
        with torch.no_grad():
            layer.cores.add_(0.01 * torch.randn_like(layer.cores))
        layer.refresh_tucker_filter()
        assert torch.dot(before, layer.filter_u) > 0
        before = layer.filter_u.clone()


def test_svd_gets_no_gradient_and_cores_learn_through_exact_scores():
    layer = make_layer()
    out = layer(torch.randn(4, D_MODEL))
    out.pow(2).sum().backward()
    assert layer.cores.grad is not None and layer.cores.grad.abs().sum() > 0
    assert layer.keys.grad.abs().sum() > 0 and layer.values.grad.abs().sum() > 0
    assert not layer.filter_u.requires_grad
