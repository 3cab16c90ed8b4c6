"""npfast's pool, NumPy hook, zeros, convert and normalize against NumPy, same run.

Every case times its variants alternately (so they see the same machine state) and prints the
median time per call, the ratio against the anchor measured in the same run, the effective
GB/s (bytes read + written once) beside the ~34 GB/s streaming limit, and minor page faults
per call (resource.getrusage().ru_minflt deltas).

    python bench/bench_memory.py [--quick]

Targets (issue 6): under numpy_pool(), `t = a.astype(f64); t / 255` within 1.25x of the
one-line spelling and >= 3x faster than without the pool; convert(u8 -> f64, 1/255, out=)
>= 1.5x the fastest NumPy spelling; 64M uint8 -> float32 at >= 20 GB/s; a loop allocating
zeros((4000, 4000)) and touching it >= 4x the same loop with np.zeros.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource

import numpy as np

import npfast
from npfast import memory
from npfast._bench.timing import compare

STREAM_GBS = 34.0


def faults(fn, calls=3):
    """Minor page faults per call."""
    fn()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(calls):
        fn()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / calls


def time_all(fns: dict, samples=9, min_sample=5e-3) -> dict:
    """Median seconds per call of each function in interleaved rounds (npfast._bench.timing)."""
    return compare(fns, 0.0, samples, samples, min_sample)


def rows_for(case, fns, anchor, nbytes, samples, target=None, note=""):
    times = time_all(fns, samples=samples)
    rows = []
    for name, t in times.items():
        gbs = nbytes / t / 1e9
        rows.append({
            "name": f"{case}: {name}",
            "times": {"median_s": t},
            "ratio": times[anchor] / t,  # > 1: faster than the anchor
            "gbs": gbs,
            "fraction": gbs / STREAM_GBS,
            "faults": faults(fns[name]),
            "target": "",
            "note": note,
        })
    return rows


def with_pool(f):
    def g():
        with memory.numpy_pool():
            return f()
    return g


def case_astype(n, samples):
    a = np.random.default_rng(0).integers(0, 256, (n, n), dtype=np.uint8)

    def one_line():
        return a.astype(np.float64) / 255.0

    def two_lines():
        t = a.astype(np.float64)
        return t / 255.0

    # Each target is timed as its own interleaved pair: the no-pool spellings unmap and fault
    # every call, which would also evict the pool spellings' blocks from cache between samples.
    pair_a = {"temporary, numpy_pool()": with_pool(two_lines),
              "one line, numpy_pool()": with_pool(one_line)}
    pair_b = {"temporary, numpy_pool() ": with_pool(two_lines),
              "temporary, no pool": two_lines,
              "one line, no pool": one_line}
    case = f"astype {n}x{n}"
    rows = rows_for(case, pair_a, "temporary, numpy_pool()", n * n * 9, samples)
    rows += rows_for(case, pair_b, "temporary, numpy_pool() ", n * n * 9, samples)
    by = {r["name"].split(": ", 1)[1]: r for r in rows}
    t_a = by["temporary, numpy_pool()"]["times"]["median_s"]
    t_b = by["temporary, numpy_pool() "]["times"]["median_s"]
    by["one line, numpy_pool()"]["target"] = (
        f"temporary/one-line under pool = {t_a / by['one line, numpy_pool()']['times']['median_s']:.2f}x (<= 1.25)")
    by["temporary, no pool"]["target"] = (
        f"no pool / pool = {by['temporary, no pool']['times']['median_s'] / t_b:.2f}x (>= 3)")
    return rows


def case_convert_f64(n, samples):
    a = np.random.default_rng(1).integers(0, 256, (n, n), dtype=np.uint8)
    out = np.empty((n, n), np.float64)
    s = 1 / 255

    def np_multiply():
        np.multiply(a, s, out=out)

    def np_divide():
        np.divide(a, 255.0, out=out)

    def np_copy_scale():
        out[...] = a
        np.multiply(out, s, out=out)

    fns = {"npfast.convert(out=)": lambda: npfast.convert(a, np.float64, s, out=out),
           "np.multiply(a, 1/255, out=)": np_multiply,
           "np.divide(a, 255, out=)": np_divide,
           "out[...] = a; out *= 1/255": np_copy_scale}
    rows = rows_for(f"convert u8->f64 {n}x{n}", fns, "npfast.convert(out=)", n * n * 9, samples)
    best = min(r["times"]["median_s"] for r in rows[1:])
    rows[0]["target"] = f"vs fastest NumPy = {best / rows[0]['times']['median_s']:.2f}x (>= 1.5)"
    return rows


def case_convert_f32_big(n, samples):
    a = np.random.default_rng(2).integers(0, 256, n, dtype=np.uint8)
    out = npfast.empty(n, np.float32)

    fns = {"npfast.convert(out=)": lambda: npfast.convert(a, np.float32, 1 / 255, out=out),
           "npfast.convert (pool)": lambda: npfast.convert(a, np.float32, 1 / 255),
           "np.multiply(a, 1/255, dtype=f32, out=)": lambda: np.multiply(
               a, np.float32(1 / 255), out=out, dtype=np.float32)}
    rows = rows_for(f"convert u8->f32 n={n >> 20}M", fns, "np.multiply(a, 1/255, dtype=f32, out=)",
                    n * 5, samples)
    rows[0]["target"] = f"{rows[0]['gbs']:.1f} GB/s (>= 20)"
    return rows


def case_zeros(n, samples):
    def loop_np():
        z = np.zeros((n, n))
        np.add(z, 1.0, out=z)

    def loop_npfast():
        z = npfast.zeros((n, n))
        np.add(z, 1.0, out=z)

    def pages_np():
        z = np.zeros((n, n))
        z.reshape(-1)[::512] = 1.0  # one write per 4 KiB page

    def pages_npfast():
        z = npfast.zeros((n, n))
        z.reshape(-1)[::512] = 1.0

    rows = rows_for(f"zeros+touch all {n}x{n}", {"npfast.zeros": loop_npfast, "np.zeros": loop_np},
                    "np.zeros", n * n * 8, samples)
    rows[0]["target"] = f"{rows[0]['ratio']:.2f}x np.zeros (>= 4)"
    rows += rows_for(f"zeros+touch pages {n}x{n}", {"npfast.zeros": pages_npfast, "np.zeros": pages_np},
                     "np.zeros", n * n * 8, samples)
    return rows


def case_normalize(h, w, samples):
    img = np.random.default_rng(3).integers(0, 256, (h, w, 3), dtype=np.uint8)
    mean = np.array([0.485, 0.456, 0.406])
    std = np.array([0.229, 0.224, 0.225])
    out = np.empty((3, h, w), np.float32)

    def numpy_chw():
        return np.ascontiguousarray(((img / 255.0 - mean) / std).astype(np.float32).transpose(2, 0, 1))

    fns = {"npfast.normalize(to_chw)": lambda: npfast.normalize(img, mean, std, to_chw=True),
           "npfast.normalize(to_chw, out=)": lambda: npfast.normalize(img, mean, std, to_chw=True, out=out),
           "npfast.normalize(HWC)": lambda: npfast.normalize(img, mean, std),
           "NumPy ((x/255-m)/s).astype(f32) -> CHW": numpy_chw}
    return rows_for(f"normalize {h}x{w}x3", fns, "NumPy ((x/255-m)/s).astype(f32) -> CHW",
                    h * w * 3 * 5, samples)


def case_small(samples):
    fns = {"npfast.empty(100)": lambda: npfast.empty(100),
           "np.empty(100)": lambda: np.empty(100),
           "np.ones(1000) + 1, numpy_pool()": with_pool(lambda: np.ones(1000) + 1),
           "np.ones(1000) + 1": lambda: np.ones(1000) + 1}
    return rows_for("small arrays", fns, "np.empty(100)", 800, samples)


def case_machine(samples):
    """What the memory system gives right now: a 128 MiB copy (read + write counted)."""
    src = np.ones(16 << 20)
    dst = np.empty_like(src)
    rows = rows_for("machine", {"np.copyto 128 MiB (read+write)": lambda: np.copyto(dst, src)},
                    "np.copyto 128 MiB (read+write)", src.nbytes * 2, samples)
    rows += rows_for("machine", {"npfast.zeros 256 MiB warm (NT write)": lambda: npfast.zeros(32 << 20)},
                     "npfast.zeros 256 MiB warm (NT write)", 256 << 20, samples)
    return rows


def run(quick: bool = False) -> list:
    samples = 7 if quick else 15
    rows = case_machine(samples)
    for n in ([1000, 3000] if quick else [1000, 2000, 3000]):
        rows += case_astype(n, samples)
    rows += case_convert_f64(1000, samples)
    if not quick:
        rows += case_convert_f64(3000, samples)
    rows += case_convert_f32_big(64 << 20, samples)
    rows += case_zeros(4000, samples)
    if not quick:
        rows += case_zeros(1000, samples)
    rows += case_normalize(1080, 1920, samples)
    if not quick:
        rows += case_normalize(224, 224, samples)
    rows += case_small(samples)
    gc.collect()
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        os.environ.pop(var, None)
    print(f"npfast {npfast.__version__} isa={npfast.config()['isa']} threads={npfast.get_num_threads()} "
          f"pool limit={memory.limit() >> 20} MiB")
    rows = run(args.quick)
    w = max(len(r["name"]) for r in rows)
    print(f"{'case':<{w}}  {'median':>9}  {'ratio':>6}  {'GB/s':>6}  {'of 34':>5}  {'faults':>7}  target")
    for r in rows:
        print(f"{r['name']:<{w}}  {r['times']['median_s'] * 1e3:8.3f}ms  {r['ratio']:6.2f}  "
              f"{r['gbs']:6.1f}  {r['fraction']:5.0%}  {r['faults']:7.0f}  {r['target']}")
    print("ratio = anchor time / this time (> 1: faster than the anchor; anchors: the pool "
          "spelling for astype, the first NumPy spelling otherwise)")
    print("pool:", memory.stats())


if __name__ == "__main__":
    main()
