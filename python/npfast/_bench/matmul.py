"""matmul: a size sweep against NumPy's BLAS, GFLOP/s and % of peak."""

from __future__ import annotations

import os

import numpy as np

import npfast

from .anchors import npfast_has
from .plots import line_plot
from .section import Section, pct, ratio
from .timing import compare, fmt_time

NAME = "matmul"
TITLE = "matmul: square matrices, npfast's own GEMM vs NumPy (BLAS)"


def run(ctx, out_dir):
    missing = npfast_has("matmul")
    if missing:
        return Section(NAME, TITLE, skipped=missing)
    sec = Section(NAME, TITLE, columns=["n", "dtype", "numpy", "npfast", "speed-up",
                                        "npfast GFLOP/s", "% of peak"])
    ns = {"tiny": [16, 64], "quick": [16, 32, 64, 128, 256, 512, 1000],
          "full": [16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1000, 1024, 1536, 2048]}[ctx.mode]
    rng = np.random.default_rng(0)
    gf = {}
    for dtype in (np.float32, np.float64):
        peak = ctx.limits.get("flops_f32" if dtype == np.float32 else "flops_f64")
        for i, n in enumerate(ns):
            ctx.progress(f"matmul {np.dtype(dtype).name}", i, len(ns))
            a = rng.standard_normal((n, n)).astype(dtype)
            b = rng.standard_normal((n, n)).astype(dtype)
            times = compare({"numpy": lambda: a @ b, "npfast": lambda: npfast.matmul(a, b)},
                            ctx.budget, min_rounds=3)
            fl = 2.0 * n**3
            for tool, t in times.items():
                gf.setdefault((tool, np.dtype(dtype).name), {})[n] = fl / t / 1e9
            sec.rows.append([str(n), np.dtype(dtype).name, fmt_time(times["numpy"]),
                             fmt_time(times["npfast"]), ratio(times["numpy"], times["npfast"]),
                             f"{fl / times['npfast'] / 1e9:.1f}", pct(fl / times["npfast"], peak)])
        ctx.progress("matmul", len(ns), len(ns))
    series = {f"{tool} {dt}": (ns, [v.get(n) for n in ns]) for (tool, dt), v in gf.items()}
    plot = line_plot(os.path.join(out_dir, "matmul.png"), TITLE, "n (n x n @ n x n)", "GFLOP/s",
                     series, logx=True)
    if plot:
        sec.plots.append(plot)
    return sec
