"""UltraMem: a small decoder-only code model with ultra-sparse memory layers, plus dense and MoE baselines."""
from .accounting import Accounting, count, model_twins
from .config import MemoryConfig, ModelConfig, MoEConfig
from .model import Transformer

__all__ = ["Accounting", "MemoryConfig", "ModelConfig", "MoEConfig", "Transformer", "count", "model_twins"]
