"""Named UltraMem configs. Twins of equal activated compute come from `accounting.model_twins`."""
from .config import MemoryConfig, ModelConfig


def um_m(vocab_size: int = 32768) -> ModelConfig:
    """UM-M (models/ARCHITECTURE.md, "UM-M and its twins"): d=512, 12 layers, 4 memory layers of 524,176 x 256
    values (537M table params)."""
    return ModelConfig(vocab_size=vocab_size, memory=MemoryConfig())


def laptop(vocab_size: int = 16384) -> ModelConfig:
    """Sized for a 2-core laptop CPU: a 7M-MAC backbone (d=256, 8 layers, GQA 4/2) whose 1,500-token prefill fits
    the latency budget, and 4 memory layers of 65,536 x 128 values (34M table params, 34 MB as int8), which cost
    almost nothing per token and keep the model folder under 64 MB."""
    return ModelConfig(
        vocab_size=vocab_size, n_layer=8, d_model=256, n_head=4, n_kv_head=2, ffn_hidden=768, context_length=2048,
        memory=MemoryConfig(placement="0:1,2:3,4:5,6:7", n_keys=512, key_dim=64, value_dim=128, topk=32))


def laptop_pkm(vocab_size: int = 16384) -> ModelConfig:
    """Ablation of `laptop`: product-key retrieval (additive row + column scores, models/ARCHITECTURE.md, "PKM") in
    place of TDQKR and multi-core scoring, everything else equal, so the Tucker-decomposed retrieval's share is
    measured."""
    cfg = laptop(vocab_size)
    cfg.memory.retrieval, cfg.memory.tucker_rank, cfg.memory.mcs_cores = "pkm", 1, 1
    cfg.validate()
    return cfg


PRESETS = {"um-m": um_m, "laptop": laptop, "laptop-pkm": laptop_pkm}
