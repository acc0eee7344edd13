"""The benches, run as modules from the repository root (`make bench`, `make bench-pool`, `make simulate`):
latency (turn latency over the real path), pool_run (the provider pool under injected failures) and
simulate (a day of interviews through the HTTP API against the fake fleet of fleet.py)."""
