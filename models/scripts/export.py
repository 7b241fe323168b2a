"""Export a training checkpoint to a model folder the extension loads (models/README.md, the contract).

Usage: python3 -m models.scripts.export --checkpoint runs/um/ckpt.pt --tokenizer tokenizer.json \
         --out models/my-model --name my-model --display-name "My model" [--keep-float]
"""
import argparse
import json

from models.ultramem.model_folder import write_model_folder
from models.ultramem.train import load_checkpoint


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--tokenizer", required=True, help="tokenizer.json with the FIM special tokens")
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", required=True, help="model id, [a-z0-9-]+")
    ap.add_argument("--display-name", required=True)
    ap.add_argument("--description", default="")
    ap.add_argument("--fim-template", choices=["psm", "spm"], default="psm",
                    help="the FIM prompt order the extension uses with this model (to choose, evaluate a folder of "
                         "each with scripts/evaluate.py)")
    ap.add_argument("--keep-float", action="store_true", help="also write model.float.onnx")
    ap.add_argument("--value-bits", type=int, choices=[4, 8], default=8,
                    help="bits per value-table entry (4 halves the tables; scripts/table_bits.py measures the cost)")
    args = ap.parse_args()
    model = load_checkpoint(args.checkpoint).eval()
    manifest = write_model_folder(model, args.tokenizer, args.out, args.name, args.display_name, args.description,
                                  keep_float=args.keep_float, fim_template=args.fim_template,
                                  value_bits=args.value_bits)
    print(json.dumps(manifest["files"], indent=1))


if __name__ == "__main__":
    main()
