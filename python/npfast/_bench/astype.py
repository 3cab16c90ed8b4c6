"""astype: `a.astype(np.float64) / 255.0` with the temporary kept or not, with the pool or not."""

from __future__ import annotations

import resource

import numpy as np

import npfast

from .anchors import npfast_has
from .section import Section, pct, ratio
from .timing import compare, fmt_time

NAME = "astype"
TITLE = "astype: uint8 -> float64 / 255 (the temporary-in-a-variable slowdown)"


def one_line(a):
    return a.astype(np.float64) / 255.0


def two_lines(a):
    t = a.astype(np.float64)
    return t / 255.0


def faults_per_call(fn, calls=5):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(calls):
        fn()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / calls


def run(ctx, out_dir):
    sec = Section(NAME, TITLE, columns=["size", "spelling", "time", "vs one-line", "GB/s",
                                        "% of bw", "page faults/call"])
    sizes = {"tiny": [64], "quick": [1000, 2000], "full": [1000, 2000, 4000]}[ctx.mode]
    pool_missing = npfast_has("memory.numpy_pool")
    if pool_missing:
        sec.note(f"with-pool rows skipped: {pool_missing}")
    for n in sizes:
        a = np.random.default_rng(0).integers(0, 256, (n, n), dtype=np.uint8)
        out = np.empty((n, n), np.float64)
        fns = {
            "one line": lambda: one_line(a),
            "temporary in a variable": lambda: two_lines(a),
            "npfast.convert": lambda: npfast.convert(a, np.float64, 1 / 255),
            "npfast.convert(out=)": lambda: npfast.convert(a, np.float64, 1 / 255, out=out),
        }
        if not pool_missing:
            pool = npfast.memory.numpy_pool

            def with_pool(f):
                def g():
                    with pool():
                        return f(a)
                return g

            fns["one line, numpy_pool()"] = with_pool(one_line)
            fns["temporary, numpy_pool()"] = with_pool(two_lines)
        times = compare(fns, ctx.budget)
        bytes_moved = n * n * (1 + 8)
        for name, t in times.items():
            sec.rows.append([f"{n}x{n}", name, fmt_time(t), ratio(times["one line"], t),
                             f"{bytes_moved / t / 1e9:.1f}", pct(bytes_moved / t, ctx.limits.get("bandwidth")),
                             f"{faults_per_call(fns[name]):.0f}"])
    sec.note("'vs one-line' > 1 means faster than `a.astype(np.float64) / 255.0`. GB/s counts "
             "the uint8 read and the float64 write once.")
    return sec
