"""Split a training checkpoint into parts for the GPU machine's transfers, or join them back into a .pt.

  python3 -m models.scripts.checkpoint_parts split runs/um/ckpt.pt data/ckpt [--weights-only] [--bf16]
  python3 -m models.scripts.checkpoint_parts join data/ckpt runs/um/ckpt.pt
  python3 -m models.scripts.checkpoint_parts from-folder models/ultramem-code-s data/ckpt --step 4382
train.py --resume takes the folder of parts as it is; `join` is for tools that want one file. `from-folder` makes
weights-only bf16 parts from a shipped model folder's int8 graph (onnx_import.py), for when the run's own parts are
lost: the run resumes at --step (where the shipped run's schedule ended) with fresh AdamW moments.
"""
import argparse
import json

import torch

from models.ultramem.checkpoint_parts import read_parts, write_parts


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    split = sub.add_parser("split")
    split.add_argument("checkpoint")
    split.add_argument("out_dir")
    split.add_argument("--weights-only", action="store_true", help="drop the optimizer state")
    split.add_argument("--bf16", action="store_true", help="large tensors in bfloat16")
    join = sub.add_parser("join")
    join.add_argument("folder")
    join.add_argument("checkpoint")
    from_folder = sub.add_parser("from-folder")
    from_folder.add_argument("folder")
    from_folder.add_argument("out_dir")
    from_folder.add_argument("--step", type=int, required=True, help="optimizer steps the shipped run had taken")
    args = ap.parse_args()
    if args.command == "from-folder":
        from models.ultramem.onnx_import import load_model_folder
        model = load_model_folder(args.folder)
        checkpoint = {"model": model.state_dict(), "model_config": model.cfg.to_dict(), "train_config": {},
                      "step": args.step}
        index = write_parts(checkpoint, args.out_dir, weights_only=True, bf16=True)
    elif args.command == "split":
        index = write_parts(args.checkpoint, args.out_dir, args.weights_only, args.bf16)
    else:
        torch.save(read_parts(args.folder), args.checkpoint)
        return
    print(json.dumps({k: v for k, v in index.items() if k != "parts"} | {"parts": len(index["parts"])}))


if __name__ == "__main__":
    main()
