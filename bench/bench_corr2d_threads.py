"""npfast.correlate2d 'same' on 1 against 2 threads, back to back and after a 0.2 ms busy pause
(the helper asleep): 6 interleaved rounds of 40 calls per setting (docs/threads.md, "thr2").
Prints the median of the round medians, the 2/1-thread ratio with its range over rounds (the
range shows whether the host lent the second vCPU in every round), and the pool's counters.

Usage: PYTHONPATH=build/dev/python python3 bench/bench_corr2d_threads.py 350:3:float32 200:7:float64
"""

import argparse
import time

import numpy as np

import npfast
from npfast import _npfast

ROUNDS, CALLS = 6, 40


def busy_pause(seconds=2e-4):
    t = time.perf_counter()
    while time.perf_counter() - t < seconds:
        pass


def round_median(a, w, threads, pause):
    npfast.set_num_threads(threads)
    ts = []
    for _ in range(CALLS):
        if pause:
            busy_pause()
        t = time.perf_counter()
        npfast.correlate2d(a, w, mode="same")
        ts.append(time.perf_counter() - t)
    return np.median(ts) * 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("specs", nargs="+", metavar="N:K:DTYPE", help="e.g. 350:3:float32")
    rng = np.random.default_rng(0)
    for spec in parser.parse_args().specs:
        n, k, dtype = spec.split(":")
        n, k = int(n), int(k)
        a = rng.random((n, n)).astype(dtype)
        w = rng.random((k, k)).astype(dtype)
        res = {(p, th): [] for p in (False, True) for th in (1, 2)}
        for _ in range(ROUNDS):
            for key in res:
                res[key].append(round_median(a, w, key[1], key[0]))
        parts = []
        for pause in (False, True):
            one, two = np.array(res[(pause, 1)]), np.array(res[(pause, 2)])
            r = two / one
            parts.append(f"{'pause' if pause else 'b2b'} 1t {np.median(one):.1f} 2t "
                         f"{np.median(two):.1f} us ({np.median(two) / np.median(one):.2f}; "
                         f"rounds {r.min():.2f}-{r.max():.2f})")
        print(f"{dtype} {k}x{k} {n}: " + "  ".join(parts), _npfast._pool_counters(), flush=True)


if __name__ == "__main__":
    main()
