"""zeros: allocate a big zero-filled array and touch it, in a loop; in Python and in Numba."""

from __future__ import annotations

import os

import numpy as np

import npfast

from .anchors import npfast_has, optional
from .astype import faults_per_call
from .plots import line_plot
from .section import Section, pct, ratio
from .timing import compare, fmt_time

NAME = "zeros"
TITLE = "zeros: allocate + touch loop, np.zeros vs npfast.zeros (Python and Numba)"

# Seconds per timed sample: the loop's steady state. The two tools' blocks do not both stay in
# this VM's L3 at 2000^2 float64 (2 x 32 MB), so the first two or three calls after the other
# tool's sample run partly from DRAM; with the default 4 ms samples (one or two calls at 2000^2)
# the same code read 0.96x or 1.38x np.zeros depending only on its place in the round
# (docs/memory.md, zeros3 2026-12-05).
STEADY_SAMPLE_S = 0.05


def run(ctx, out_dir):
    missing = npfast_has("zeros")
    if missing:
        return Section(NAME, TITLE, skipped=missing)
    sec = Section(NAME, TITLE, columns=["shape", "touch", "tool", "time/iter", "speed-up", "GB/s",
                                        "% of bw", "page faults/iter"])
    sizes = {"tiny": [256], "quick": [1000, 4000], "full": [1000, 2000, 4000, 8000]}[ctx.mode]
    page = 4096 // 8
    for n in sizes:
        for touch in ("every element", "one per page"):
            if touch == "every element":
                def use(z):
                    np.add(z, 1.0, out=z)
            else:
                def use(z):
                    z.reshape(-1)[::page] = 1.0

            def loop_np(use=use):
                use(np.zeros((n, n)))

            def loop_npfast(use=use):
                use(npfast.zeros((n, n)))

            times = compare({"np.zeros": loop_np, "npfast.zeros": loop_npfast}, ctx.budget,
                            min_sample=STEADY_SAMPLE_S)
            nbytes = n * n * 8
            for name, fn in [("np.zeros", loop_np), ("npfast.zeros", loop_npfast)]:
                t = times[name]
                sec.rows.append([f"({n}, {n})", touch, name, fmt_time(t),
                                 ratio(times["np.zeros"], t), f"{nbytes / t / 1e9:.1f}",
                                 pct(nbytes / t, ctx.limits.get("bandwidth")),
                                 f"{faults_per_call(fn):.0f}"])
    sec.note("Each iteration allocates zeros((n, n)) float64 and then either adds 1 to every "
             "element in place (the array is used) or writes one element per 4 KiB page (the "
             "first touch alone: what allocation costs). GB/s counts the array once.")
    numba_rows(ctx, out_dir, sec)
    return sec


def numba_kernels(numba):
    """The reported code (issue 21), its `# do something` a full touch, and the same with
    npfast.zeros inside the compiled function."""

    @numba.njit
    def pure_numba(n):
        mat = np.zeros((n, n), dtype=np.double)
        mat += 1.0
        return mat.reshape((n ** 2))

    @numba.njit
    def npfast_in_njit(n):
        mat = npfast.zeros((n, n))
        mat += 1.0
        return mat.reshape((n ** 2))

    return pure_numba, npfast_in_njit


def numba_rows(ctx, out_dir, sec):
    """Rows and a plot: np.zeros / npfast.zeros + touch in Python against the reported Numba
    function with and without npfast.numba.install(), and npfast.zeros inside @njit."""
    numba, why = optional("numba")
    if numba is None:
        sec.note(f"Numba rows skipped: {why}")
        return
    import npfast.numba as npnumba

    pure_numba, npfast_in_njit = numba_kernels(numba)
    sizes = {"tiny": [256], "quick": [1000, 2000, 4000],
             "full": [100, 300, 1000, 2000, 3000, 4000, 6000, 8000]}[ctx.mode]
    was = npnumba.is_installed()
    npnumba.uninstall()
    pure_numba(2)
    npfast_in_njit(2)  # compile outside the timing

    def pooled(n):
        npnumba.install()
        pure_numba(n)
        npnumba.uninstall()

    tools = ["np.zeros", "npfast.zeros", "pure_numba", "pure_numba + install()",
             "npfast.zeros in @njit"]
    speedup = {t: {} for t in tools}
    for n in sizes:
        def use(z):
            np.add(z, 1.0, out=z)

        fns = {
            "np.zeros": lambda: use(np.zeros((n, n))),
            "npfast.zeros": lambda: use(npfast.zeros((n, n))),
            "pure_numba": lambda: pure_numba(n),
            "pure_numba + install()": lambda: pooled(n),
            "npfast.zeros in @njit": lambda: npfast_in_njit(n),
        }
        times = compare(fns, ctx.budget, min_sample=STEADY_SAMPLE_S)
        nbytes = n * n * 8
        for name in tools:
            t = times[name]
            speedup[name][n] = times["np.zeros"] / t
            sec.rows.append([f"({n}, {n})", "every element (Numba)", name, fmt_time(t),
                             ratio(times["np.zeros"], t), f"{nbytes / t / 1e9:.1f}",
                             pct(nbytes / t, ctx.limits.get("bandwidth")),
                             f"{faults_per_call(fns[name]):.0f}"])
        sec.note(f"({n}, {n}): pure_numba with install() is {ratio(times['pure_numba'], times['pure_numba + install()'])} "
                 f"pure_numba without it and {times['pure_numba + install()'] / times['np.zeros']:.2f}x "
                 f"the time of np.zeros + touch")
    if was:
        npnumba.install()
    sec.note("Numba rows: `pure_numba(n)` is the reported function (np.zeros((n, n)) inside "
             "@numba.njit, its `# do something` a full touch `mat += 1.0`), run as is and with "
             "npfast.numba.install() / uninstall() around each call (~1 us of the small sizes' "
             "times); 'npfast.zeros in @njit' is the same function with npfast.zeros. Speed-up is "
             "against np.zeros + touch in Python, timed in the same interleaved rounds.")
    series = {t: (sizes, [speedup[t].get(n) for n in sizes]) for t in tools[1:]}
    plot = line_plot(os.path.join(out_dir, "zeros.png"), "zeros + touch: speed-up over np.zeros",
                     "array side n (n x n float64)", "speed-up over np.zeros + touch (log)",
                     series, logx=True, logy=True)
    if plot:
        sec.plots.append(plot)
