"""The UltraMem memory layer (Huang et al., "Ultra-Sparse Memory Network", ICLR 2025).

Names in quotes are sections of models/ARCHITECTURE.md. One layer, per token x (the pre-FFN normed state of block s):

  q = LN(W_q x) = [q_row; q_col]                                   query halves ("Scores, heads, norms")
  S_row^(rho) = LN(K_row^(rho)) q_row,  S_col^(rho) likewise         per-rank scores, rho = 1..r ("TDQKR")
  I_row = TopM(u^T S_row),  I_col = TopM(t^T S_col)                  rank-1 filter from SVD(sum_c C_c) ("TDQKR")
  G_c[i, j] = S_row[:, I_row_i]^T C_c S_col[:, I_col_j]              exact grid on the m x m candidates, core c ("MCS")
  (w, J) = TopM(sum_c G_c)                                           final m slots, ranked on the summed cores
  a = I_row[J // m] * n + I_col[J % m];  z = pi(a)                   virtual address, fixed permutation ("IVE")
  phys = z mod N, group = z div N
  o = W_out^T concat_g( sum_{i: group_i = g} sum_c w_i^(c) V[phys_i]^(c) )   MCS halves, IVE pooling (eq. 9 of [U2])

With `heads` > 1, each head has its own query and its own top-m over the same keys; the heads' slots are read and
pooled together. Retrieval always runs in fp32, also under bf16 autocast, so that training picks the same slots as
the fp32 graph the extension runs. There is no softmax over the scores ("Scores, heads, norms"). Two retrieval
paths compute the same thing:
  - training: all per-rank scores S (r*n per side), then gathers; gradients reach the keys through S;
  - inference (`fold_for_inference`): the key LayerNorm and u, t are folded into constant tables, one n-wide
    matmul per side ranks the keys, and only the m selected rows of the per-rank keys are gathered
    ("Inference folding").
    Written for onnxruntime on a CPU at batch 1: a true matmul over all tokens for the filter and one batched
    matmul over gathered key rows for the candidates, both sides together (not one tiny matmul per token and
    candidate, which made a prefill's memory layers cost as much as the rest of the network), and few small nodes
    (README.md, "The engine against llama.cpp").
"""
from __future__ import annotations

import contextlib
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import MemoryConfig


def _top_indices(x: torch.Tensor, k: int) -> torch.Tensor:
    """Indices of the k largest along the last dimension. The exported graph's TopK returns them unsorted: the slots
    are summed, so their order does not matter, and onnxruntime's unsorted TopK made a 512-token prefill 6% and a
    decode step 4% faster (models/LOG.md, 2026-12-06, fourth session). PyTorch keeps them sorted, so the training path
    and the tests see one order."""
    return torch.topk(x, k, dim=-1, sorted=not torch.onnx.is_in_onnx_export()).indices


class UltraMemLayer(nn.Module):
    def __init__(self, cfg: MemoryConfig, d_model: int, value_init_std: float):
        super().__init__()
        self.cfg = cfg
        n, dk, r, h, E = cfg.n_keys, cfg.key_dim, cfg.tucker_rank, cfg.mcs_cores, cfg.expansion
        self.query = nn.Linear(d_model, cfg.heads * 2 * dk, bias=False)  # [q_row; q_col] per head
        # keys: (side, rank, n, D_k), side 0 = rows, 1 = columns
        self.keys = nn.Parameter(torch.randn(2, r, n, dk) / math.sqrt(dk))
        ln_gain = dk ** -0.33  # official code's gain ("Initialisation"); keeps the top-m scores near 1
        self.query_norm = nn.Parameter(torch.full((dk,), ln_gain)) if cfg.qk_norm else None
        self.key_norm = nn.Parameter(torch.full((dk,), ln_gain)) if cfg.qk_norm else None
        # Tucker cores C_c (h, r, r), U(0, 1) init as in the official code ("TDQKR")
        self.cores = nn.Parameter(torch.rand(h, r, r))
        self.values = nn.Parameter(torch.randn(cfg.n_values, cfg.value_dim) * value_init_std)
        self.values.is_memory_value = True  # the trainer gives these their own lr group ("Value-table learning rate")
        n_proj = 1 if cfg.single_projector else E
        self.out_proj = nn.Linear(n_proj * cfg.value_dim, d_model, bias=False)
        nn.init.normal_(self.out_proj.weight, std=1.0 / math.sqrt(n_proj * cfg.value_dim))
        nn.init.normal_(self.query.weight, std=1.0 / math.sqrt(dk))
        g = torch.Generator().manual_seed(cfg.perm_seed)
        self.register_buffer("perm", torch.randperm(n * n, generator=g), persistent=True)
        # rank-1 filter vectors, refreshed once per optimizer step (no gradient through the SVD)
        self.register_buffer("filter_u", torch.full((r,), 1.0 / math.sqrt(r)), persistent=True)
        self.register_buffer("filter_t", torch.full((r,), 1.0 / math.sqrt(r)), persistent=True)
        self.folded: Optional[dict] = None
        self.refresh_tucker_filter()

    # ---- the rank-1 filter ---------------------------------------------------------------------------
    @torch.no_grad()
    def refresh_tucker_filter(self) -> None:
        """u, t = leading singular vectors of sum_c C_c, signs kept closest to the previous step ("TDQKR")."""
        if self.cfg.retrieval != "tdqkr":
            return
        U, _, Vh = torch.linalg.svd(self.cores.detach().float().sum(0))
        u, t = U[:, 0], Vh[0]
        # u t^T is unchanged by flipping both; flip so that u keeps its direction from the last step
        if torch.dot(u, self.filter_u) < 0:
            u, t = -u, -t
        self.filter_u.copy_(u)
        self.filter_t.copy_(t)

    def singular_values(self) -> torch.Tensor:
        return torch.linalg.svdvals(self.cores.detach().float().sum(0))

    # ---- shared pieces ------------------------------------------------------------------------------------
    def _norm(self, x: torch.Tensor, gain: Optional[torch.Tensor]) -> torch.Tensor:
        if gain is None:
            return x
        return F.layer_norm(x, (self.cfg.key_dim,), gain, None)

    # Shapes below are written with -1 for the token count and constants from the config elsewhere: a size read
    # from a tensor becomes Shape/Gather/Unsqueeze/Concat nodes in the exported graph, run on every decode step.
    def _queries(self, x: torch.Tensor) -> torch.Tensor:
        q = self.query(x).view(-1, 2, self.cfg.key_dim)  # (T*H, 2, D_k), head-minor
        return self._norm(q, self.query_norm)

    def _grid(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Exact scores on the candidate grid. a, b: (T, 1, m_f, r) -> per-core scores (T, h, m_f*m_f)."""
        mf = self.cfg.n_filter
        if self.cfg.retrieval == "pkm":
            return (a + b.transpose(2, 3)).view(-1, 1, mf * mf)
        aC = torch.matmul(a, self.cores)  # (T, h, m_f, r)
        return torch.matmul(aC, b.transpose(2, 3)).view(-1, self.cfg.mcs_cores, mf * mf)  # (T, h, m_f*m_f)

    def _select(self, i_row, i_col, a, b):
        """Top-m over the candidate grid. i_row, i_col: (T, m_f) key indices; a, b as in `_grid`.
        Returns virtual addresses (T, m) and per-core scores (T, h, m)."""
        m, mf, n = self.cfg.topk, self.cfg.n_filter, self.cfg.n_keys
        grid = self._grid(a, b)  # (T, h, mf*mf)
        j = _top_indices(grid.sum(1), m)  # rank on the summed cores (MCS)
        w = torch.gather(grid, 2, j.unsqueeze(1).expand(-1, self.cfg.mcs_cores, -1))  # (T, h, m)
        # indices are >= 0, so truncating division is floor division, and exports as a single Div
        row = torch.gather(i_row, 1, torch.div(j, mf, rounding_mode="trunc"))
        col = torch.gather(i_col, 1, torch.remainder(j, mf))
        return row * n + col, w

    def _merge_heads(self, addr: torch.Tensor, w: torch.Tensor):
        """(T*H, m) addresses and (T*H, h, m) scores -> (T, H*m) and (T, h, H*m): every head's slots of a token."""
        H, h, m = self.cfg.heads, self.cfg.mcs_cores, self.cfg.topk
        if H == 1:
            return addr, w
        return addr.reshape(-1, H * m), w.view(-1, H, h, m).transpose(1, 2).reshape(-1, h, H * m)

    def _read_values(self, addr: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """IVE pooling + projection ("IVE"). addr: (T, M) virtual addresses, w: (T, h, M) per-core scores."""
        cfg = self.cfg
        m, h, N = cfg.heads * cfg.topk, cfg.mcs_cores, cfg.n_values
        if cfg.score_softmax:
            w = torch.softmax(w, dim=-1)
        z = self.perm[addr]  # (T, m) virtual slot after the fixed shuffle
        phys = torch.remainder(z, N)
        vals = self.values[phys].view(-1, m, h, cfg.value_dim // h)  # (T, m, h, D_v/h)
        vals = (vals * w.transpose(1, 2).unsqueeze(-1)).view(-1, m, cfg.value_dim)  # MCS: core c weights part c
        if cfg.single_projector or cfg.expansion == 1:
            pooled = vals.sum(1)  # (T, D_v)
        else:
            group = torch.div(z, N, rounding_mode="trunc")  # projector id of each slot (z >= 0)
            onehot = (group.unsqueeze(1) == torch.arange(cfg.expansion, device=z.device).view(1, -1, 1))
            pooled = torch.matmul(onehot.to(vals.dtype), vals).view(-1, cfg.expansion * cfg.value_dim)  # (T, E*D_v)
        return self.out_proj(pooled)

    # ---- forward ----------------------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (..., d) pre-FFN normed states -> memory output (..., d)."""
        addr, w = self.retrieve(x)
        return self._read_values(addr, w).view_as(x)

    def retrieve(self, x: torch.Tensor):
        """x: (..., d), T states -> virtual addresses (T, H*m) and per-core scores (T, h, H*m), computed in fp32."""
        with _without_autocast(x):
            xf = x if x.dtype == torch.float32 else x.float()
            addr, w = self._retrieve_folded(xf) if self.folded is not None else self._retrieve(xf)
        return self._merge_heads(addr, w)

    # ---- initialization ----------------------------------------------------------------------------------------
    @torch.no_grad()
    def match_init_scale(self, x: torch.Tensor, target_rms: float) -> None:
        """Scale the query gain so that the mean top-m score is 1 (the LN-gain rule, "Initialisation"), then the values
        so that the output RMS on `x` is `target_rms`, the FFN's (UltraMemV2 App. A: match the FFN's variance).
        Without it the memory starts about 100x louder than the FFN it sits beside."""
        _, w = self.retrieve(x)
        mean_top = w.sum(1).mean().item()
        assert mean_top > 0, f"top-m scores average {mean_top} at init; the query gain cannot be matched"
        # the grid is bilinear in the two query halves (TDQKR), linear for PKM's sum
        gain = mean_top ** (-1.0 if self.cfg.retrieval == "pkm" else -0.5)
        (self.query_norm if self.query_norm is not None else self.query.weight).mul_(gain)
        out_rms = self(x).pow(2).mean().sqrt().item()
        self.values.mul_(target_rms / out_rms)

    def _retrieve(self, x: torch.Tensor):
        """Training path: all per-rank scores, filter, exact grid ("TDQKR")."""
        cfg = self.cfg
        q = self._queries(x)  # (T, 2, D_k), T counting every head's query
        T, r, n, mf = q.shape[0], cfg.tucker_rank, cfg.n_keys, cfg.n_filter
        keys = self._norm(self.keys, self.key_norm).view(2, r * n, cfg.key_dim)
        S = torch.matmul(q.transpose(0, 1), keys.transpose(1, 2)).view(2, T, r, n)  # (side, T, r, n)
        if cfg.retrieval == "pkm":
            s_row, s_col = S[0, :, 0], S[1, :, 0]
        else:
            s_row = torch.matmul(S[0].transpose(1, 2), self.filter_u)  # (T, n) = u^T S_row
            s_col = torch.matmul(S[1].transpose(1, 2), self.filter_t)
        i_row = _top_indices(s_row, mf)  # (T, mf)
        i_col = _top_indices(s_col, mf)
        a = torch.gather(S[0], 2, i_row.unsqueeze(1).expand(-1, r, -1))  # (T, r, mf)
        b = torch.gather(S[1], 2, i_col.unsqueeze(1).expand(-1, r, -1))
        return self._select(i_row, i_col, a.transpose(1, 2).unsqueeze(1), b.transpose(1, 2).unsqueeze(1))

    # ---- inference folding ---------------------------------------------------------------------------------
    @torch.no_grad()
    def fold_for_inference(self) -> None:
        """Precompute what is constant at inference (models/ARCHITECTURE.md, "Inference folding"): the rank-1 filter
        keys u^T K, t^T K, and the normed keys of every rank with row i of side s at s*n + i, so that one gather
        fetches both sides' candidates."""
        cfg = self.cfg
        keys = self._norm(self.keys, self.key_norm)  # (2, r, n, D_k)
        if cfg.retrieval == "pkm":
            filt = keys[:, 0]
        else:
            filt = torch.stack([
                (self.filter_u.view(-1, 1, 1) * keys[0]).sum(0),  # K_bar_row = sum_rho u_rho K_row^(rho)
                (self.filter_t.view(-1, 1, 1) * keys[1]).sum(0),
            ])
        self.folded = {
            "filter_keys_t": filt.transpose(1, 2).contiguous(),                            # (2, D_k, n)
            # (2n, r, D_k): 3-D, so that quantize.py keeps it in float (it quantizes 2-D row tables)
            "rank_keys": keys.permute(0, 2, 1, 3).reshape(2 * cfg.n_keys, cfg.tucker_rank, -1).contiguous(),
            "side_offset": torch.tensor([0, cfg.n_keys]).view(1, 2, 1),
        }

    def unfold(self) -> None:
        self.folded = None

    def _retrieve_folded(self, x: torch.Tensor):
        """Inference path: one n-wide matmul per side ranks the keys for all tokens at once, then one gather takes
        the m selected keys' rows of every rank, both sides together, and one batched matmul scores them."""
        cfg = self.cfg
        mf, r = cfg.n_filter, cfg.tucker_rank
        q = self._queries(x)  # (T, 2, D_k)
        s_bar = torch.matmul(q.transpose(0, 1), self.folded["filter_keys_t"])  # (2, T, n)
        idx = _top_indices(s_bar, mf).transpose(0, 1)  # (T, 2, mf)
        k_sel = self.folded["rank_keys"][idx + self.folded["side_offset"]]  # (T, 2, mf, r, D_k)
        cand = torch.matmul(k_sel.view(-1, 2, mf * r, cfg.key_dim), q.unsqueeze(-1)).view(-1, 2, mf, r)
        a, b = cand.split(1, dim=1)  # (T, 1, mf, r) each
        return self._select(idx[:, 0], idx[:, 1], a, b)


def _without_autocast(x: torch.Tensor):
    """Autocast off for the retrieval (a no-op context in ONNX export, which runs in fp32 anyway)."""
    if torch.onnx.is_in_onnx_export() or not hasattr(torch, "autocast"):
        return contextlib.nullcontext()
    return torch.autocast(x.device.type, enabled=False)
