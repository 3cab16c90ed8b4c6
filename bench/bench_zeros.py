"""Issue 21's speed targets, each ratio from one run of interleaved rounds (npfast._bench.timing).

    PYTHONPATH=build/dev/python python bench/bench_zeros.py [zeros|numba|astype ...] [--sizes N ...]

zeros   np.zeros((n, n)) + touch (np.add(z, 1, out=z)) against npfast.zeros + touch with 1 and
        2 threads (npfast.set_num_threads), and the parts: the clear alone and the touch of a
        warm uncleared block (npfast.empty + touch). Target: >= 1.0x from 100^2 to 8000^2,
        >= 1.3x from 2000^2.
numba   the reported pure_numba(4000) (np.zeros in @njit, `# do something` = `mat += 1.0`)
        without and with npfast.numba.install(), against np.zeros + touch in Python. Target:
        >= 5x faster with install(), within 1.2x of np.zeros + touch. Also with npfast on 1
        thread: the clear's second half needs a free core (docs/memory.md, 2026-12-05 (c)).
astype  under npfast.memory.numpy_pool(): `t = a.astype(f64); t / 255` against
        `a.astype(f64) / 255`, and the same two computations into preallocated buffers (no
        allocation at all). Target: <= 1.25x from 3000^2.

Each timed sample lasts >= 50 ms (STEADY_SAMPLE_S): the loop's steady state, not the first calls
after the other tool's sample, which find the block partly out of cache. Page faults per call
are getrusage minor-fault deltas.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np

import npfast
import npfast.memory
from npfast._bench.astype import faults_per_call, one_line, two_lines
from npfast._bench.zeros import STEADY_SAMPLE_S
from npfast._bench.timing import compare, samples


def ms(t):
    return f"{t * 1e3:8.3f} ms"


def zeros(sizes, rounds):
    print("zeros + touch, float64 (speed-up over np.zeros + touch; > 1 is faster)")
    now = [npfast.get_num_threads()]

    def threads(k, f):
        # set_num_threads reads the affinity mask (a syscall, ~0.25 us): only when the count
        # changes, so a 100^2 call (~3 us) is not charged for it. np's functions go through
        # the same wrapper so both sides pay the same Python overhead.
        def g():
            if now[0] != k:
                npfast.set_num_threads(k)
                now[0] = k
            f()
        return g

    for n in sizes or [100, 300, 500, 700, 1000, 1500, 2000, 3000, 4000, 6000, 8000]:
        touch_np = lambda: np.add(z := np.zeros((n, n)), 1.0, out=z)  # noqa: E731
        touch_pool = lambda: np.add(z := npfast.zeros((n, n)), 1.0, out=z)  # noqa: E731
        fns = {
            "np": threads(2, touch_np),
            "npfast 2 thr": threads(2, touch_pool),
            "npfast 1 thr": threads(1, touch_pool),
            "clear np": threads(2, lambda: np.zeros((n, n))),
            "clear npfast": threads(2, lambda: npfast.zeros((n, n))),
            "warm touch": threads(2, lambda: np.add(z := npfast.empty((n, n)), 1.0, out=z)),
        }
        got = samples(fns, 0.0, rounds, rounds, STEADY_SAMPLE_S)
        t = {k: statistics.median(v) for k, v in got.items()}
        best = {k: sorted(v)[len(v) // 10] for k, v in got.items()}
        print(f"{n:5d}^2 np {ms(t['np'])} | npfast 2 thr {t['np'] / t['npfast 2 thr']:.2f}x  "
              f"1 thr {t['np'] / t['npfast 1 thr']:.2f}x (best decile: 2 thr "
              f"{best['np'] / best['npfast 2 thr']:.2f}x  1 thr {best['np'] / best['npfast 1 thr']:.2f}x)"
              f" | clear: np {ms(t['clear np'])} "
              f"npfast {ms(t['clear npfast'])} | touch of a warm block {ms(t['warm touch'])} | "
              f"faults np {faults_per_call(touch_np):.0f} npfast {faults_per_call(touch_pool):.0f}",
              flush=True)
    npfast.set_num_threads(2)


def numba_case(sizes, rounds):
    import numba

    import npfast.numba as npnumba

    @numba.njit
    def pure_numba(n):
        mat = np.zeros((n, n), dtype=np.double)
        mat += 1.0
        return mat.reshape((n ** 2))

    npnumba.uninstall()
    pure_numba(2)
    npfast.set_num_threads(2)
    print("pure_numba(n) (np.zeros + mat += 1.0 in @njit)")
    for n in sizes or [4000]:
        def pooled(k=2):
            def f():
                npfast.set_num_threads(k)
                npnumba.install()
                pure_numba(n)
                npnumba.uninstall()
                npfast.set_num_threads(2)
            return f

        plain = lambda: pure_numba(n)  # noqa: E731
        fns = {"np": lambda: np.add(z := np.zeros((n, n)), 1.0, out=z), "numba": plain,
               "numba + install()": pooled(), "1 thread": pooled(1)}
        t = compare(fns, 0.0, rounds, rounds, STEADY_SAMPLE_S)
        print(f"{n}^2: np.zeros + touch {ms(t['np'])}  pure_numba {ms(t['numba'])}  "
              f"with install() {ms(t['numba + install()'])}: "
              f"{t['numba'] / t['numba + install()']:.2f}x faster, "
              f"{t['numba + install()'] / t['np']:.2f}x the time of np.zeros + touch "
              f"(npfast on 1 thread: {t['numba'] / t['1 thread']:.2f}x, "
              f"{t['1 thread'] / t['np']:.2f}x) | faults "
              f"{faults_per_call(plain):.0f} / {faults_per_call(pooled()):.0f}", flush=True)


def astype(sizes, rounds):
    print("under numpy_pool(): temporary spelling / one-line spelling (time ratio; <= 1.25)")
    pool = npfast.memory.numpy_pool
    for n in sizes or [1000, 2000, 3000, 4000]:
        a = np.random.default_rng(0).integers(0, 256, (n, n), dtype=np.uint8)
        T, O = np.empty((n, n)), np.empty((n, n))

        def one():
            with pool():
                return one_line(a)

        def two():
            with pool():
                return two_lines(a)

        def one_buffer():
            np.copyto(T, a)
            np.divide(T, 255.0, out=T)

        def two_buffers():
            np.copyto(T, a)
            np.divide(T, 255.0, out=O)

        t = compare({"one": one, "two": two, "one buffer": one_buffer,
                     "two buffers": two_buffers}, 0.0, rounds, rounds)
        print(f"{n:5d}^2 one-line {ms(t['one'])} temporary {ms(t['two'])}: "
              f"{t['two'] / t['one']:.2f}x | preallocated, no allocation: "
              f"{t['two buffers'] / t['one buffer']:.2f}x | faults "
              f"{faults_per_call(one):.0f} / {faults_per_call(two):.0f}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cases", nargs="*", default=["zeros", "numba", "astype"])
    ap.add_argument("--sizes", type=int, nargs="*", default=[])
    ap.add_argument("--samples", type=int, default=15)
    args = ap.parse_args()
    for c in args.cases:
        {"zeros": zeros, "numba": numba_case, "astype": astype}[c](args.sizes, args.samples)


if __name__ == "__main__":
    main()
