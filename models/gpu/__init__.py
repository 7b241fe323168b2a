"""The GPU machine's runs: gpu_run.sh (one device call per phase), stage_gpu_part.sh (what a call carries), the
runs as data (runs.json), the phases' Python steps (phases.py) and their dry run on a CPU (dry_run.py)."""
