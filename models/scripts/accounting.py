"""Print activated MACs/token and parameter counts of a config and of its dense and MoE twins of equal compute.

Usage: python3 models/scripts/accounting.py --preset laptop | --config path/to/config.json [--experts 16]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from ultramem import ModelConfig, count, model_twins  # noqa: E402
from ultramem.presets import PRESETS  # noqa: E402


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
