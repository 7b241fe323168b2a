"""Train an UltraMem, dense or MoE model on token files. Runs on CPU, or on GPUs under torchrun (DDP).

Examples:
  python3 -m models.scripts.train --preset laptop --data data/train.bin --out runs/um --steps 2000
  torchrun --nproc_per_node 4 -m models.scripts.train --preset laptop --twin dense --data ... --dtype bfloat16
  python3 -m models.scripts.train --config runs/um/config.json ...        (any saved ModelConfig)
`--twin dense|moe` trains the equal-activated-compute twin of the chosen UltraMem config (accounting.model_twins).
"""
import argparse
import dataclasses
import json
import os

from models.ultramem import ModelConfig, count, model_twins
from models.ultramem.presets import PRESETS
from models.ultramem.train import TrainConfig, train


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", choices=sorted(PRESETS), help="UltraMem config preset")
    ap.add_argument("--config", help="a saved ModelConfig JSON instead of a preset")
    ap.add_argument("--vocab", type=int, default=32768, help="vocabulary size for a preset")
    ap.add_argument("--twin", choices=["dense", "moe"], help="train the equal-compute twin instead")
    ap.add_argument("--experts", type=int, default=16, help="experts of the MoE twin (top-2); 16 gives the laptop twin about the UltraMem model's total parameters")
    ap.add_argument("--data", nargs="+", required=True, help="token files (.bin, uint16)")
    ap.add_argument("--out", required=True, help="output folder: metrics.jsonl, ckpt.pt, config.json")
    for f in dataclasses.fields(TrainConfig):
        if f.name in ("data", "out_dir"):
            continue
        if isinstance(f.default, bool):
            ap.add_argument("--" + f.name.replace("_", "-"), action=argparse.BooleanOptionalAction, default=f.default)
        else:
            ap.add_argument("--" + f.name.replace("_", "-"), type=type(f.default), default=f.default)
    args = ap.parse_args()
    assert bool(args.preset) != bool(args.config), "give exactly one of --preset and --config"
    cfg = PRESETS[args.preset](args.vocab) if args.preset else ModelConfig.load(args.config)
    if args.twin:
        dense, moe = model_twins(cfg, n_experts=args.experts)
        cfg = dense if args.twin == "dense" else moe
    tc = TrainConfig(data=args.data, out_dir=args.out, **{f.name: getattr(args, f.name)
                                                         for f in dataclasses.fields(TrainConfig)
                                                         if f.name not in ("data", "out_dir")})
    print(count(cfg).summary(cfg.architecture), flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "train_config.json"), "w") as f:
        json.dump(dataclasses.asdict(tc), f, indent=2)
    train(cfg, tc)


if __name__ == "__main__":
    main()
