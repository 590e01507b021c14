"""glassgate benchmarks: the harness (``bench/run.py``) and micro-benchmarks. Not a test."""
