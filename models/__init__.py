"""The Python side of the repository, one package run in place from the repository root (nothing to install):
`ultramem` (the model), `corpus` (the training-corpus builder), `scripts` (entry points: python3 -m
models.scripts.train ...), `gpu` (the GPU machine's runs) and `tests` (python3 -m pytest models/tests)."""
