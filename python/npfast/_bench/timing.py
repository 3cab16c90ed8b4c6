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
    limits: dict = field(default_factory=dict)  # name -> section.Limit (may rise at the end)
    measured: list = field(default_factory=list)  # the limits probes' results, start and end
    progress: object = None
    edge_note: str = ""  # the limits section's measured cache edge, in words
    threads: list = None  # --threads: the counts the scaling section runs (None: its default)

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


def quiesce(max_wait: float = 0.3) -> None:
    """Returns once no other thread of this process burns CPU (or after `max_wait` s).

    Anchors' worker threads spin after a call before they sleep: OpenBLAS's for about 110 ms
    here (a full core), OpenMP's by default. Whatever is timed next in an interleaved round
    would lose that core to them (npfast's 2-thread matmul measured 0.6x NumPy that way and
    1.0x alone). Waiting for quiet measures every tool at its own defaults, in its own steady
    state. The caller spins meanwhile (a sleeping core clocks down: the next ~2 ms of calls
    then run up to 2x slower here). The window spans a few scheduler ticks: the CPU time of
    a thread running on another core is only counted at a tick, so a 2 ms window reads 0 or
    2 cores busy at random.
    """
    deadline = time.perf_counter() + max_wait
    while True:
        c0, t0, w0 = time.process_time(), time.thread_time(), time.perf_counter()
        while time.perf_counter() - w0 < 0.01:
            pass
        others = (time.process_time() - c0) - (time.thread_time() - t0)
        if others < 0.2 * (time.perf_counter() - w0) or time.perf_counter() > deadline:
            return


def compare(fns: dict, budget: float, min_rounds: int = 5, max_rounds: int = 50,
            min_sample: float = 4e-3, clock=time.perf_counter) -> dict:
    """Median seconds per call of each function, timed in interleaved rounds (`samples`)."""
    got = samples(fns, budget, min_rounds, max_rounds, min_sample, clock)
    return {k: statistics.median(v) for k, v in got.items()}


def samples(fns: dict, budget: float, min_rounds: int = 5, max_rounds: int = 50,
            min_sample: float = 4e-3, clock=time.perf_counter) -> dict:
    """Seconds per call of each function in each of the interleaved rounds.

    Each function is called once to warm up; then each round calls every function in turn (in
    reverse order every other round), a calibrated number of times so that one sample lasts
    at least `min_sample` s or one call, so all of them see the same machine state: noise
    from other processes hits every tool alike. Before each sample the process is let go quiet
    (`quiesce`) and the tool makes half a sample of untimed calls, so no tool pays for the
    previous one's spinning threads or for its own threads waking up. `clock` may be
    time.process_time (CPU seconds of the process: a shared machine's other load does not
    inflate it; with threads it also counts their waiting). A fixed number of rounds:
    budget=0, min_rounds=max_rounds=N.
    """
    names = list(fns)
    for f in fns.values():
        f()
    inner = {k: _inner_count(f, min_sample) for k, f in fns.items()}
    got = {k: [] for k in names}
    gc_was = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        rounds = 0
        while rounds < min_rounds or (
            rounds < max_rounds and time.perf_counter() - start < budget * len(names)
        ):
            # Odd rounds run the tools in reverse order (ABBA): a drift in the machine's
            # state hits them alike.
            for k in names if rounds % 2 == 0 else names[::-1]:
                f, n = fns[k], inner[k]
                if len(names) > 1:
                    quiesce()
                    for _ in range(n // 2 + 1):  # untimed: the tool's threads wake up
                        f()
                t0 = clock()
                for _ in range(n):
                    f()
                got[k].append((clock() - t0) / n)
            rounds += 1
    finally:
        if gc_was:
            gc.enable()
    return got


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
