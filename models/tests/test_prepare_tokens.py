"""scripts/prepare_tokens.py on two small shards, with the shipped tokenizer (through the pure-Python reader, as
`tokenizers` is not installed in CI): the FIM stream holds every document, snippets come from the same package,
the held-out file stays plain."""
import json
import lzma
import os

import numpy as np

from models.scripts import prepare_tokens
from models.ultramem.bpe import ByteLevelBPE
from models.ultramem.model_folder import special_token_ids

HERE = os.path.dirname(os.path.abspath(__file__))

TOKENIZER = os.path.join(HERE, "..", "ultramem-code-s", "tokenizer.json")


def write_shard(path, records):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with lzma.open(path, "wt", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")


def record(package, path, text, lang="python"):
    return {"text": text, "lang": lang, "source": "npm", "package": package, "path": path, "license": "MIT"}


def test_train_stream_and_heldout_files(tmp_path):
    alpha = [record("alpha", f"alpha/m{i}.py", f"def alpha_{i}(x):\n    return x * {i}\n" * 3) for i in range(6)]
    beta = [record("beta", "beta/index.js", "export const beta = 1;\n", "javascript")]
    long_doc = record("gamma", "gamma/big.py", "".join(f"gamma_{i} = {i}\n" for i in range(1500)))   # ~20 KB
    write_shard(str(tmp_path / "shards" / "train" / "train-00000.jsonl.xz"), alpha + beta + [long_doc])
    write_shard(str(tmp_path / "shards" / "heldout" / "python-00000.jsonl.xz"), [record("h", "h.py", "print(1)\n")])
    out = tmp_path / "tokens"
    prepare_tokens.main(["--tokenizer", TOKENIZER, "--shards", str(tmp_path / "shards"), "--out", str(out),
                         "--fim-rate", "1.0", "--seed", "3"])

    summary = json.load(open(out / "tokens.json"))
    assert summary["files"]["train.bin"]["documents"] == 8
    assert summary["fim"]["max_example_chars"] == 5000
    special = special_token_ids(TOKENIZER)
    ids = np.fromfile(out / "train.bin", dtype=np.uint16).tolist()
    assert ids[-1] == special["endOfText"]
    # every chunk of the 20 KB file is its own example, so there are more examples than documents
    assert ids.count(special["endOfText"]) >= 8 + 3
    text = ByteLevelBPE.from_file(TOKENIZER).decode(ids)
    for r in alpha + beta:
        assert r["text"].split("\n")[0][:8] in text
    # snippets (30% of FIM examples) name a file of the same package: only alpha has other files
    paths = [line.split("\n")[0] for line in text.split("<|file_sep|>")[1:]]
    assert paths and all(p.startswith("alpha/") for p in paths)

    held = np.fromfile(out / "heldout_python.bin", dtype=np.uint16).tolist()
    assert held[-1] == special["endOfText"] and special["fimPrefix"] not in held
    assert summary["files"]["heldout_python.bin"]["documents"] == 1
