"""Matrix x vector: npfast.matmul against np.matmul, interleaved in one process, medians.

    PYTHONPATH=build/dev/python python3 bench/bench_gemv.py [--threads 1 2] [--sizes ...]

Prints, per size and orientation, the medians in us and numpy_time / npfast_time (> 1: npfast
faster). Unset OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE; quote `uptime`'s load with the figures.
"""
import argparse
import os
import time

import numpy as np

import npfast


def median_us(fn, reps):
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[len(ts) // 2] * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--sizes", type=int, nargs="+",
                    default=[16, 64, 128, 300, 512, 1000, 1500, 2000, 3000, 4000])
    ap.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    from threadpoolctl import threadpool_limits
    rng = np.random.default_rng(0)
    print("load", os.getloadavg())
    for t in args.threads:
        npfast.set_num_threads(t)
        with threadpool_limits(t):
            for dt in args.dtypes:
                for n in args.sizes:
                    a = rng.standard_normal((n, n)).astype(dt)
                    x = rng.standard_normal(n).astype(dt)
                    row = []
                    for name, f, g in [("A@x", lambda: npfast.matmul(a, x), lambda: np.matmul(a, x)),
                                       ("x@A", lambda: npfast.matmul(x, a), lambda: np.matmul(x, a))]:
                        reps = max(5, min(2000, int(2e8 / (n * n * 8 + 1e4))))
                        ours, theirs = [], []
                        for _ in range(args.rounds):
                            ours.append(median_us(f, reps))
                            theirs.append(median_us(g, reps))
                        o, th = sorted(ours)[len(ours) // 2], sorted(theirs)[len(theirs) // 2]
                        row.append(f"{name} {o:9.2f} {th:9.2f} {th / o:5.2f}")
                    print(f"t={t} {dt:8s} {n:5d} | " + " | ".join(row), flush=True)


if __name__ == "__main__":
    main()
