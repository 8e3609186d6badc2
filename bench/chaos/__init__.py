"""The chaos bench: `python -m bench.chaos` (see bench/chaos/__main__.py)."""
