"""matvec: square matrix x vector and vector x matrix against NumPy's BLAS, GB/s of the matrix."""

from __future__ import annotations

import numpy as np

import npfast

from .anchors import npfast_has
from .limits import system_llc
from .section import Section, pct, ratio
from .timing import compare, fmt_time

NAME = "matvec"
TITLE = "matvec: (n, n) @ (n,) and (n,) @ (n, n), npfast's gemv kernels vs NumPy (BLAS)"


def run(ctx, out_dir):
    missing = npfast_has("matmul")
    if missing:
        return Section(NAME, TITLE, skipped=missing)
    sec = Section(NAME, TITLE, columns=["n", "dtype", "product", "numpy", "npfast", "speed-up",
                                        "npfast GB/s", "% of bandwidth"])
    ns = {"tiny": [16, 300], "quick": [16, 128, 300, 1000, 2000],
          "full": [16, 64, 128, 300, 512, 700, 1000, 1500, 2000, 3000, 4000]}[ctx.mode]
    # A matrix inside the last cache is read from there round after round: memory's bandwidth
    # is not its limit, so its row says "in cache" instead of a share of it.
    llc = ctx.limits.get("cache_edge") or system_llc()
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        for i, n in enumerate(ns):
            ctx.progress(f"matvec {np.dtype(dtype).name}", i, len(ns))
            a = rng.standard_normal((n, n)).astype(dtype)
            x = rng.standard_normal(n).astype(dtype)
            for label, f, g in [("A @ x", lambda: a @ x, lambda: npfast.matmul(a, x)),
                                ("x @ A", lambda: x @ a, lambda: npfast.matmul(x, a))]:
                times = compare({"numpy": f, "npfast": g}, ctx.budget, min_rounds=3)
                t = times["npfast"]
                share = "in cache" if a.nbytes < llc else \
                    pct(a.nbytes / t, ctx.limits.get("bandwidth"))
                sec.rows.append([str(n), np.dtype(dtype).name, label, fmt_time(times["numpy"]),
                                 fmt_time(t), ratio(times["numpy"], t),
                                 f"{a.nbytes / t / 1e9:.1f}", share])
        ctx.progress("matvec", len(ns), len(ns))
    return sec
