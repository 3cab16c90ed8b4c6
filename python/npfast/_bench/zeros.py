"""zeros: allocate a big zero-filled array and touch it, in a loop."""

from __future__ import annotations

import numpy as np

import npfast

from .anchors import npfast_has
from .astype import faults_per_call
from .section import Section, pct, ratio
from .timing import compare, fmt_time

NAME = "zeros"
TITLE = "zeros: allocate + touch loop, np.zeros vs npfast.zeros"


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

            times = compare({"np.zeros": loop_np, "npfast.zeros": loop_npfast}, ctx.budget)
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
    return sec
