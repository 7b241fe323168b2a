"""Exact and near-duplicate detection, decontamination and the held-out split (models/corpus)."""
import gzip
import json
import random

import numpy as np

from models.corpus import dedup, split
from models.corpus.decontam import DecontamIndex, eval_texts


def program(seed, n=60):
    rng = random.Random(seed)
    names = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "theta", "zeta", "lambda_"]
    lines = []
    for i in range(n):
        a, b = rng.choice(names), rng.choice(names)
        lines.append(f"    {a}_{i} = compute_{b}({rng.randint(0, 999)}, {a}) + {rng.random():.4f}")
    return f"def function_{seed}():\n" + "\n".join(lines) + "\n    return None\n"


def test_exact_key_ignores_trailing_whitespace_only():
    a = "x = 1\ny = 2\n"
    assert dedup.exact_key(a) == dedup.exact_key("x = 1   \ny = 2\n\n")
    assert dedup.exact_key(a) != dedup.exact_key("x = 1\ny = 3\n")


def test_minhash_estimates_jaccard():
    a = program(1)
    lines = a.split("\n")
    b = "\n".join(lines[:-6] + ["    changed = 1", "    again = 2"] + lines[-4:])   # a few lines edited
    c = program(2)
    sa, sb, sc = dedup.minhash(a), dedup.minhash(b), dedup.minhash(c)
    assert sa.dtype == np.uint32 and sa.shape == (dedup.NUM_PERM,)
    assert dedup.jaccard_estimate(sa, sb) > 0.8
    assert dedup.jaccard_estimate(sa, sc) < 0.2
    assert np.array_equal(sa, dedup.minhash(a))          # deterministic


def test_near_duplicates_keep_the_first_of_each_cluster():
    base = [program(s) for s in range(20)]
    docs = list(base)
    lines = base[3].split("\n")
    docs.append("\n".join(lines[:10] + ["    tweak = 0"] + lines[10:]))      # near copy of doc 3
    docs.append(base[7].replace("return None", "return 0"))                  # near copy of doc 7
    sigs = np.stack([dedup.minhash(d) for d in docs])
    drop = set(dedup.near_duplicates(sigs).tolist())
    assert drop == {20, 21}
    alive = np.ones(len(docs), dtype=bool)
    alive[3] = False                                       # already gone (e.g. exact dup): its copy stays
    assert set(dedup.near_duplicates(sigs, alive).tolist()) == {21}


def test_decontamination_flags_copies_of_eval_tasks(tmp_path):
    he = tmp_path / "human-eval-infilling"
    he.mkdir()
    (tmp_path / "safim").mkdir()
    prompt = ('def separate_paren_groups(paren_string: str) -> List[str]:\n    """ Input to this function is a '
              'string containing multiple groups of nested parentheses. Your goal is to separate those group '
              'into separate strings and return the list of those.\n    """\n')
    sol = ("    result = []\n    current_string = []\n    current_depth = 0\n    for c in paren_string:\n"
           "        if c == '(':\n            current_depth += 1\n            current_string.append(c)\n")
    with gzip.open(he / "HumanEval-SingleLineInfilling.jsonl.gz", "wt") as fh:
        fh.write(json.dumps({"task_id": "t/0", "prompt": prompt, "canonical_solution": sol, "suffix": "",
                             "test": "", "entry_point": "separate_paren_groups"}) + "\n")
    prog = ("#include <stdio.h>\nint main() {\n    int n, total_sum_of_weights = 0;\n"
            "    scanf(\"%d\", &n);\n    for (int i = 0; i < n; i++) { int weight_value; "
            "scanf(\"%d\", &weight_value); total_sum_of_weights += weight_value * compute_factor(i); }\n"
            "    printf(\"%d\\n\", total_sum_of_weights % modulus_value);\n}\n")
    with gzip.open(tmp_path / "safim" / "block_completion.jsonl.gz", "wt") as fh:
        fh.write(json.dumps({"task_id": "b0", "lang": "cpp", "prompt": "Description: sum weights\n\nCode:\n",
                             "eval_prompt": prog.replace("printf", "{{completion}}", 1),
                             "ground_truth": "printf"}) + "\n")
    texts = eval_texts(str(tmp_path))
    assert any("separate_paren_groups" in t for t in texts)
    assert all("#include" not in t for t in texts)          # import lines are not indexed
    idx = DecontamIndex.from_texts(texts)
    assert idx.contaminated("import os\n\n" + prompt + sol + "\n\nprint('copied')\n")
    assert idx.contaminated("// solution\n" + prog)
    assert not idx.contaminated(program(5))
    assert not idx.contaminated("#include <stdio.h>\n#include <stdlib.h>\nint main() { return 0; }\n")


def test_decontamination_ignores_boilerplate_shared_by_many_eval_texts():
    boiler = "n_items = int(input_line())\nvalues_list = list(map(int, input_line().split()))\n"
    texts = [boiler + f"answer_{i} = solve_problem_{i}(values_list)\n" for i in range(30)]
    idx = DecontamIndex.from_texts(texts)
    assert idx.hits(boiler * 3) == 0


def test_split_is_by_package_and_covers_every_language():
    pkgs = {f"npm:p{i}": {"typescript": 1000 + i} for i in range(50)}
    pkgs.update({f"debian:g{i}": {"go": 500, "markdown": 20} for i in range(20)})
    pkgs.update({"debian:only-rust": {"rust": 100}, "debian:rust2": {"rust": 100}})
    side = split.assign(pkgs, frac=0.05)
    assert set(side) == set(pkgs) and set(side.values()) <= {"heldout", "train"}
    for lang in ("typescript", "go", "rust"):
        held = [k for k, v in pkgs.items() if lang in v and side[k] == "heldout"]
        train = [k for k, v in pkgs.items() if lang in v and side[k] == "train"]
        assert held and train, lang
    assert side == split.assign(pkgs, frac=0.05)             # deterministic


def test_corpus_boilerplate_is_discounted():
    from models.corpus import decontam
    texts = [program(s) for s in range(3)]
    idx = DecontamIndex.from_texts(texts)
    copy = idx.matches(texts[0])
    assert len(copy) >= decontam.MIN_HITS
    # one package copies eval text 0; twelve packages share a few of text 1's n-grams (boilerplate)
    shared = idx.matches(texts[1])[:decontam.MIN_HITS]
    lists = [copy] + [shared] * 12
    pkgs = [0] + list(range(1, 13))
    flags = decontam.contaminated(lists, pkgs, idx)
    assert flags.tolist() == [True] + [False] * 12
    # the same n-grams in only two packages are not boilerplate: both copies are contaminated
    assert decontam.contaminated([shared, shared], [1, 2], idx).tolist() == [True, True]


def test_split_does_not_move_a_scarce_languages_big_package_out_of_train():
    pkgs = {"debian:big-cs": {"csharp": 9_000_000}, "debian:small-cs": {"csharp": 200_000},
            "debian:tiny-cs": {"csharp": 100_000}}
    pkgs.update({f"npm:p{i}": {"javascript": 1000} for i in range(40)})
    side = split.assign(pkgs, frac=0.03)
    assert side["debian:big-cs"] == "train"
    assert "heldout" in (side["debian:small-cs"], side["debian:tiny-cs"])
