"""Train the byte-level BPE code tokenizer with Hugging Face `tokenizers` (Python; the GPU machine has it).

Usage: python3 -m models.scripts.train_tokenizer --vocab 16384 --out tokenizer.json SAMPLE_FILES...
Samples are text files or corpus shards (*.jsonl.xz / *.jsonl.gz with a "text" field). The FIM special tokens
come last, with the ids the model folder's manifest records. Whitespace: the ByteLevel pre-tokenizer keeps runs of
spaces together, so BPE learns indentation tokens (2, 4, 8 spaces, tabs) instead of one token per space.
"""
import argparse
import gzip
import json
import lzma

from models.ultramem.model_folder import SPECIAL_TOKENS


def texts(paths):
    for path in paths:
        if path.endswith((".jsonl.xz", ".jsonl.gz")):
            opener = lzma.open if path.endswith(".xz") else gzip.open
            with opener(path, "rt", encoding="utf-8") as f:
                for line in f:
                    yield json.loads(line)["text"]
        else:
            with open(path, encoding="utf-8") as f:
                yield f.read()


def main():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vocab", type=int, default=16384)
    ap.add_argument("--out", required=True)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    specials = list(SPECIAL_TOKENS.values())
    trainer = trainers.BpeTrainer(vocab_size=args.vocab - len(specials), min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts(args.files), trainer=trainer)
    tok.add_special_tokens(specials)
    tok.save(args.out)
    sample = "def f(x):\n        return x  # ünïcödé\n\t}\n" + "".join(specials)
    assert tok.decode(tok.encode(sample).ids, skip_special_tokens=False) == sample, "no round trip"
    print(f"{args.out}: {tok.get_vocab_size()} tokens")


if __name__ == "__main__":
    main()
