"""Timing: warm-up, calibrated inner loops, anchors interleaved with npfast, medians."""

from __future__ import annotations

import gc
import statistics
import time
from dataclasses import dataclass, field


@dataclass
class Ctx:
    """What a section gets: the run mode and the machine limits measured first."""

    mode: str  # "tiny", "quick" or "full"
    limits: dict = field(default_factory=dict)
    progress: object = None

    @property
    def budget(self) -> float:
        """Seconds of timing per function and case."""
        return {"tiny": 0.01, "quick": 0.15, "full": 0.5}[self.mode]


def _inner_count(fn, target: float) -> int:
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= target or n >= 1 << 20:
            return max(1, int(n * target / max(dt, 1e-9)))
        n *= 4 if dt < target / 16 else 2


def compare(fns: dict, budget: float, min_rounds: int = 5, max_rounds: int = 50) -> dict:
    """Median seconds per call of each function, timed in interleaved rounds.

    Each function is called once to warm up; then each round calls every function in turn
    (a calibrated number of times, so one sample lasts at least ~4 ms or one call), so all of
    them see the same machine state: noise from other processes hits every tool alike.
    """
    names = list(fns)
    for f in fns.values():
        f()
    inner = {k: _inner_count(f, 4e-3) for k, f in fns.items()}
    samples = {k: [] for k in names}
    gc_was = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        rounds = 0
        while rounds < min_rounds or (
            rounds < max_rounds and time.perf_counter() - start < budget * len(names)
        ):
            for k in names:
                f, n = fns[k], inner[k]
                t0 = time.perf_counter()
                for _ in range(n):
                    f()
                samples[k].append((time.perf_counter() - t0) / n)
            rounds += 1
    finally:
        if gc_was:
            gc.enable()
    return {k: statistics.median(v) for k, v in samples.items()}


def fmt_time(seconds: float) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"
