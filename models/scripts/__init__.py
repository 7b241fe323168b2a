"""Entry points, each run as a module from the repository root: python3 -m models.scripts.<name> --help."""
