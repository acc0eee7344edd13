"""Growth, not speed: how a function's CPU time grows with its input, for the linear-time tests.

CPU time of this process (time.process_time), not wall time, so a busy machine skews it less; the least
of a few runs, so one preempted run does not count. A linear function given four times the input costs
about four times as much; the bound is ten times (plus a millisecond of timer noise), which a quadratic
one (sixteen times) cannot meet. The absolute bound only catches a catastrophe.
"""

from __future__ import annotations

import time
from collections.abc import Callable

GROWTH = 4
MAX_RATIO = 10
NOISE_SECONDS = 0.001


def cpu_seconds(run: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        run()
        best = min(best, time.process_time() - started)
    return best


def assert_linear(
    small: Callable[[], object], large: Callable[[], object], catastrophe_seconds: float = 2.0
) -> tuple[float, float]:
    """`large` runs on GROWTH times the input of `small`: it may cost at most MAX_RATIO times as much."""
    small()  # warm up caches and lazily built tables
    small_s, large_s = cpu_seconds(small), cpu_seconds(large)
    assert large_s <= MAX_RATIO * small_s + NOISE_SECONDS, (
        f"{GROWTH}x the input cost {large_s / max(small_s, 1e-9):.1f}x the CPU time "
        f"({small_s * 1000:.1f} ms -> {large_s * 1000:.1f} ms)"
    )
    assert large_s < catastrophe_seconds, f"{large_s:.2f} s of CPU time"
    return small_s, large_s
