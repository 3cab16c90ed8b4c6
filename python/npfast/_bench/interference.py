"""interference: npfast beside other thread pools. A loop alternates NumPy as_strided + np.dot
(OpenBLAS) or a torch conv2d (OpenMP) with npfast.correlate2d; npfast's time there against
npfast alone, at its default thread count and at one thread. Two np.dot loops: the user's own
(issue 20: the same 3x3 correlation of the same image, spelled as_strided + np.dot), and a
bigger product (16 float64 columns) whose 24-50 MB of copies and writes also evict npfast's
data from every cache; both count toward the aim, and the rows show the cache's part beside
the pool's. One more setting runs npfast while
other processes keep all cores but one busy, so its helpers cannot get a core: that call must
stay within STEADY of npfast's one-thread time alone.

The loops run in a child process with OMP_WAIT_POLICY unset, so torch's OpenMP threads spin
after each call as they do by default (the report sets PASSIVE for its own timings)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from .anchors import optional
from .section import Section

NAME = "interference"
TITLE = "interference: npfast right after OpenBLAS and OpenMP (torch) calls vs npfast alone"

# Within this factor of npfast alone is steady (issue 20).
STEADY = 1.3


BUSY = "beside busy processes"
USER = "after the user's np.dot (the same correlation)"
BIG = "after a bigger np.dot (16 columns)"
DOT1 = "after the same np.dot, OpenBLAS on 1 thread"
# Longer than a helper's 300 us spin (docs/threads.md): the call finds its helpers asleep.
SLEPT = "after a 1 ms pause (helpers asleep)"


def busy_pause(seconds: float) -> None:
    """Busy, so the core keeps its clock (a sleeping core clocks down and would make the
    call after it the slow one)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


class Busy:
    """`count` processes spinning on the CPU while in the with block."""

    def __init__(self, count: int):
        self.count, self.procs = count, []

    def __enter__(self):
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                      for _ in range(self.count)]
        time.sleep(0.05)  # let them start and take their cores
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait()


def measure(sizes, calls: int, rounds: int) -> dict:
    """Median seconds of one npfast.correlate2d 3x3 'same' call in each setting, per size."""
    import npfast

    try:
        import torch
    except Exception:
        torch = None
    from numpy.lib.stride_tricks import as_strided

    rng = np.random.default_rng(0)
    threads = npfast.get_num_threads()
    if torch is not None:
        torch.set_num_threads(threads)
        tx, tw = torch.randn(1, 32, 56, 56), torch.randn(32, 32, 3, 3)
    # OpenBLAS at npfast's thread count too (threadpoolctl, when installed).
    tpc, _ = optional("threadpoolctl")
    limiter = tpc.threadpool_limits(threads, user_api="blas") if tpc is not None else None
    busy = max(1, len(os.sched_getaffinity(0)) - 1)
    out = {"threads": threads, "busy": busy, "sizes": {}}
    for n in sizes:
        img, ker = rng.standard_normal((n, n)).astype(np.float32), np.ones((3, 3), np.float32)
        xd = rng.standard_normal((n, n))
        win = as_strided(xd, (n - 2, n - 2, 3, 3), xd.strides * 2)  # the sliding-window spelling
        kd = rng.standard_normal((9, 16))
        # The user's loop: NumPy's spelling of the very correlation npfast computes next.
        user_win = as_strided(img, (n - 2, n - 2, 3, 3), img.strides * 2)
        others = {"alone": None,
                  USER: lambda: np.dot(user_win.reshape(-1, 9), ker.ravel()),
                  BIG: lambda: np.dot(win.reshape(-1, 9), kd)}
        if tpc is not None:
            def dot_one_thread():
                # The same product, so the same cache footprint, with no other pool running:
                # against it the row above shows what the other pool, not the cache, costs.
                with tpc.threadpool_limits(1, user_api="blas"):
                    np.dot(win.reshape(-1, 9), kd)
            others[DOT1] = dot_one_thread
        if torch is not None:
            def torch_conv():
                with torch.no_grad():
                    torch.nn.functional.conv2d(tx, tw, padding=1)
            others["after torch conv2d"] = torch_conv
        others[BUSY] = None
        others[SLEPT] = lambda: busy_pause(1e-3)
        settings = [(t, k) for t in sorted({threads, 1}, reverse=True) for k in others]
        got = {s: [] for s in settings}

        def ours():
            npfast.correlate2d(img, ker, mode="same")

        for _ in range(10):
            ours()

        def run_calls(t, k):
            for _ in range(calls):
                if others[k] is None:  # alone, or beside the busy processes: a 0.2 ms gap
                    busy_pause(2e-4)
                else:
                    others[k]()
                t0 = time.perf_counter()
                ours()
                got[(t, k)].append(time.perf_counter() - t0)

        for _ in range(rounds):  # the settings interleaved, so machine drift hits all alike
            for t, k in settings:
                npfast.set_num_threads(t)
                with Busy(busy if k == BUSY else 0):
                    run_calls(t, k)
        npfast.set_num_threads(threads)
        out["sizes"][n] = {f"{t}|{k}": statistics.median(v) for (t, k), v in got.items()}
    if limiter is not None:
        limiter.restore_original_limits()
    return out


def run(ctx, out_dir):
    sec = Section(NAME, TITLE, columns=["size", "npfast threads", "setting", "npfast time",
                                        "vs alone", "vs 1 thread alone", "ns/px"])
    sizes = [64] if ctx.mode == "tiny" else [350, 500]
    calls, rounds = (5, 2) if ctx.mode == "tiny" else (10, 3) if ctx.mode == "quick" else (30, 6)
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    code = (f"import json; from npfast._bench.interference import measure; "
            f"print(json.dumps(measure({sizes!r}, {calls}, {rounds})))")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=600)
    if proc.returncode != 0:
        return Section(NAME, TITLE, skipped=f"failed: the child process said {proc.stderr[-500:]}")
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    worst, worst_user, worst_big, worst_busy, worst_pool, worst_slept = (0.0,) * 6
    for n, times in got["sizes"].items():
        n = int(n)
        threads = got["threads"]
        one = times["1|alone"]
        # The aim's baseline: npfast alone at its best, so that a round in which the second
        # core gave nothing (alone at N threads no faster than at one) does not flatter the rest.
        best = min(times[f"{threads}|alone"], one)
        for key, t in times.items():
            th, setting = key.split("|")
            ref = times[f"{th}|alone"]
            if setting == BUSY:
                worst_busy = max(worst_busy, t / one)
            elif setting == SLEPT:
                worst_slept = max(worst_slept, t / one)
            elif int(th) == threads and setting not in ("alone", DOT1):
                worst = max(worst, t / best)  # every mixed loop: np.dot either way, torch
                if setting == USER:
                    worst_user = max(worst_user, t / best)
                if setting == BIG:
                    worst_big = max(worst_big, t / best)
                    if f"{th}|{DOT1}" in times:
                        worst_pool = max(worst_pool, t / times[f"{th}|{DOT1}"])
            sec.rows.append([f"{n}x{n}", th, setting, f"{t * 1e6:.1f} us", f"{t / ref:.2f}x",
                             f"{t / one:.2f}x", f"{t * 1e9 / (n * n):.2f}"])
    sec.note(f"Median of single npfast.correlate2d 3x3 'same' float32 calls, each right after the "
             f"other tool's call (or a 0.2 ms busy pause: alone); settings interleaved in {rounds} "
             f"rounds of {calls} calls. torch and OpenBLAS run at npfast's thread count, "
             f"OpenMP at its default wait policy.")
    sec.note(f"Worst npfast time in the mixed loops (after either np.dot, after torch conv2d), "
             f"against npfast alone at its best (the faster of its {got['threads']}-thread and "
             f"one-thread times): {worst:.2f}x ({'within' if worst <= STEADY else 'over'} the "
             f"{STEADY}x aim). After the user's own np.dot of the same correlation: "
             f"{worst_user:.2f}x. On a machine whose cores other processes also use, the "
             "'1 thread' rows show how much of it is the cores being busy rather than npfast's "
             "pool.")
    if worst_big:
        sec.note(f"After the bigger np.dot (16 float64 columns: it copies (n-2)^2 x 9 float64 "
                 f"and writes (n-2)^2 x 16, 24 MB at 350^2 and 50 MB at 500^2, which evicts "
                 f"npfast's input and output from every cache whatever the thread counts): "
                 f"{worst_big:.2f}x npfast alone at its best; the one-thread rows take the same "
                 "step, a cold call's memory time.")
    if worst_pool:
        sec.note(f"After that np.dot against after the same np.dot with OpenBLAS on one thread "
                 f"(same cache footprint, no other pool running): worst {worst_pool:.2f}x, the "
                 "part of the step the other pool, not the cache, causes.")
    sec.note(f"After a 1 ms pause (npfast's helpers, which spin 300 us after a call, asleep): "
             f"the worst npfast time against its one-thread time alone: {worst_slept:.2f}x "
             f"({'within' if worst_slept <= STEADY else 'over'} the {STEADY}x aim; short work "
             "stays on the caller rather than wait for a helper's wake-up, docs/threads.md).")
    sec.note(f"Beside {got['busy']} busy process(es) (npfast's helpers cannot get a core), the "
             f"worst npfast time against its one-thread time alone: {worst_busy:.2f}x "
             f"({'within' if worst_busy <= STEADY else 'over'} the {STEADY}x aim).")
    return sec
