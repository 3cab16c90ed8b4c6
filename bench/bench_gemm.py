"""npfast.matmul against NumPy's matmul (OpenBLAS), both on the same threads, same run.

For each case: median time per call of each library (calls interleaved so both see the same
machine state), the ratio numpy_time / npfast_time (> 1: npfast faster), GFLOP/s and the
fraction of the measured FMA peak (the active ISA's FMA loop, one per thread).

    python bench/bench_gemm.py [--quick] [--threads 2] [--cpu-time] [--sizes 16,32,...,4000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import npfast
from npfast._bench.limits import peak_flops
from npfast._bench.timing import compare

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None

SWEEP = [16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1000, 1024, 1536, 2048]
QUICK = [16, 32, 64, 128, 256, 512, 1000]


def _time_pair(f, g, min_sample=2e-3, samples=9, clock=time.perf_counter):
    """Median seconds per call of f and of g in interleaved rounds (npfast._bench.timing)."""
    t = compare({"f": f, "g": g}, 0.0, samples, samples, min_sample, clock)
    return t["f"], t["g"]


def peak_gflops(dtype, threads: int) -> float:
    """Measured FMA peak (GFLOP/s) for `threads` threads: the active ISA's FMA loop on each
    thread, best of a few rounds (npfast._bench.limits, the report's probe)."""
    before = npfast.get_num_threads()
    npfast.set_num_threads(threads)
    try:
        return peak_flops(dtype) / 1e9
    finally:
        npfast.set_num_threads(before)


def cases(quick: bool, only: list | None = None):
    sizes = only or (QUICK if quick else SWEEP)
    for dtype in (np.float32, np.float64):
        for n in sizes:
            yield f"matmul {np.dtype(dtype).name} {n}x{n}x{n}", dtype, (n, n, n), 1
    if only:  # the square sweep asked for, nothing else
        return
    # Rectangular and batched shapes (conv-like and many-small).
    extra = [((64, 3136, 576), 1), ((256, 196, 2304), 1), ((16, 16, 16), 512), ((64, 64, 64), 64)]
    if quick:
        extra = extra[:2]
    for dtype in (np.float32, np.float64):
        for (m, n, k), batch in extra:
            tag = f"batch{batch} " if batch > 1 else ""
            yield f"matmul {np.dtype(dtype).name} {tag}{m}x{n}x{k}", dtype, (m, n, k), batch


def run(quick: bool = False, threads: int = 2, cpu_time: bool = False,
        sizes: list | None = None) -> list[dict]:
    rng = np.random.default_rng(0)
    before = npfast.get_num_threads()
    npfast.set_num_threads(threads)
    peaks = {np.float32: peak_gflops(np.float32, threads), np.float64: peak_gflops(np.float64, threads)}
    limits = threadpool_limits(limits=threads, user_api="blas") if threadpool_limits else None
    rows = []
    try:
        for name, dtype, (m, n, k), batch in cases(quick, sizes):
            shape_a = (batch, m, k) if batch > 1 else (m, k)
            shape_b = (batch, k, n) if batch > 1 else (k, n)
            a = rng.standard_normal(shape_a).astype(dtype)
            b = rng.standard_normal(shape_b).astype(dtype)
            t_np_, t_np = _time_pair(lambda: npfast.matmul(a, b), lambda: np.matmul(a, b),
                                     samples=5 if quick else 9,
                                     clock=time.process_time if cpu_time else time.perf_counter)
            flops = 2.0 * m * n * k * batch
            gf = flops / t_np_ * 1e-9
            rows.append({
                "name": name,
                "times": {"npfast": t_np_, "numpy": t_np},
                "npfast_s": t_np_,
                "numpy_s": t_np,
                "ratio": t_np / t_np_,
                "gflops": gf,
                "numpy_gflops": flops / t_np * 1e-9,
                "fraction": gf / peaks[dtype],
                "peak_gflops": peaks[dtype],
            })
    finally:
        if limits is not None:
            limits.restore_original_limits()
        npfast.set_num_threads(before)
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cpu-time", action="store_true",
                   help="time with process CPU time (robust to other load; see _time_pair)")
    p.add_argument("--sizes", type=lambda v: [int(x) for x in v.split(",")], default=None,
                   help="square sizes to sweep instead of the default cases, e.g. 16,32,4000")
    args = p.parse_args()
    rows = run(args.quick, args.threads, args.cpu_time, args.sizes)
    print(f"npfast {npfast.__version__}  isa={npfast.config()['isa']}  threads={args.threads}  "
          f"peak f32 {rows[0]['peak_gflops']:.0f} GFLOP/s, f64 {rows[-1]['peak_gflops']:.0f} GFLOP/s "
          f"(FMA loop on {args.threads} threads)")
    print(f"{'case':36s} {'npfast':>10s} {'numpy':>10s} {'ratio':>6s} {'GFLOP/s':>8s} "
          f"{'numpyGF':>8s} {'%peak':>6s}")
    for r in rows:
        print(f"{r['name']:36s} {r['npfast_s']*1e6:9.1f}u {r['numpy_s']*1e6:9.1f}u "
              f"{r['ratio']:6.2f} {r['gflops']:8.1f} {r['numpy_gflops']:8.1f} "
              f"{100*r['fraction']:5.1f}%")


if __name__ == "__main__":
    main()
