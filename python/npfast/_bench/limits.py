"""Machine limits, measured by npfast itself: every later row is a fraction of these."""

from __future__ import annotations

import numpy as np

from npfast import _npfast

from .section import Section

NAME = "limits"
TITLE = "Machine limits (measured by npfast, all threads)"


def run(ctx, out_dir):
    sec = Section(NAME, TITLE, columns=["limit", "value", "how"])
    secs = {"tiny": 0.02, "quick": 0.2, "full": 0.5}[ctx.mode]
    size = {"tiny": 16 << 20, "quick": 256 << 20, "full": 512 << 20}[ctx.mode]
    reps = {"tiny": 2, "quick": 5, "full": 10}[ctx.mode]
    f32 = max(_npfast._measure_peak_flops(np.float32, secs) for _ in range(3))
    f64 = max(_npfast._measure_peak_flops(np.float64, secs) for _ in range(3))
    bw = _npfast._measure_bandwidth(size, reps)
    touch = _npfast._measure_first_touch(size)
    stream = max(bw["read"], bw["write"])
    ctx.limits.update(flops_f32=f32, flops_f64=f64, bandwidth=stream, first_touch=touch)
    isa = _npfast._isa()
    sec.rows = [
        ["peak fp32", f"{f32 / 1e9:.0f} GFLOP/s", f"{isa} FMA loop, 12 chains per thread"],
        ["peak fp64", f"{f64 / 1e9:.0f} GFLOP/s", f"{isa} FMA loop"],
        ["stream read", f"{bw['read'] / 1e9:.1f} GB/s", f"sum over {size >> 20} MiB"],
        ["stream write", f"{bw['write'] / 1e9:.1f} GB/s", "non-temporal stores"],
        ["first touch", f"{touch / 1e9:.2f} GB/s", "mmap + write fresh pages, 1 thread"],
    ]
    sec.note(f"The bandwidth limit used below is {stream / 1e9:.1f} GB/s (best of read and write); "
             f"first touch of fresh memory is {stream / touch:.0f}x slower than that.")
    return sec
