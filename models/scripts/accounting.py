"""Print activated MACs/token and parameter counts of a config and of its dense and MoE twins of equal compute.

Usage: python3 -m models.scripts.accounting --preset laptop | --config path/to/config.json [--experts 16]
"""
import argparse

from models.ultramem import ModelConfig, count, model_twins
from models.ultramem.presets import PRESETS


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", choices=sorted(PRESETS))
    ap.add_argument("--config")
    ap.add_argument("--experts", type=int, default=16)
    args = ap.parse_args()
    assert bool(args.preset) != bool(args.config), "give exactly one of --preset and --config"
    cfg = PRESETS[args.preset]() if args.preset else ModelConfig.load(args.config)
    print(count(cfg).summary(cfg.architecture))
    if cfg.architecture == "ultramem":
        for twin in model_twins(cfg, n_experts=args.experts):
            print(count(twin).summary(twin.architecture))


if __name__ == "__main__":
    main()
