"""Pooling benchmarks: npfast against PyTorch 2.x CPU (and NumPy for the 2-D array case).

Both libraries run at 2 threads; every ratio compares times measured in the same run,
alternating the two so that machine noise hits both. GB/s counts input + output + indices
bytes once, against the ~34 GB/s streaming limit of this machine.

    python bench/bench_pool.py [--quick]
"""

from __future__ import annotations

import os
import argparse

import numpy as np

LIMIT_GBS = 34.0
THREADS = 2


def _median_times(fns, rounds, min_sample):
    """Interleaved rounds (npfast._bench.timing); returns each function's (median, best)
    seconds per call. On a shared machine the best is what the code can do, the median what
    one sees."""
    from npfast._bench.timing import samples

    got = samples(dict(enumerate(fns)), 0.0, rounds, rounds, min_sample)
    return [(float(np.median(got[k])), float(np.min(got[k]))) for k in range(len(fns))]


def _numpy_pool3(a):
    """The vectorised NumPy version: 3x3 blocks of the floor-mode region, max and argmax."""
    H, W = a.shape[0] // 3 * 3, a.shape[1] // 3 * 3
    blocks = a[:H, :W].reshape(H // 3, 3, W // 3, 3).transpose(0, 2, 1, 3).reshape(H // 3, W // 3, 9)
    k = blocks.argmax(-1)
    v = np.take_along_axis(blocks, k[..., None], -1)[..., 0]
    rows = np.arange(H // 3)[:, None] * 3 + k // 3
    cols = np.arange(W // 3)[None, :] * 3 + k % 3
    return v, rows * a.shape[1] + cols


def cases():
    import torch
    import torch.nn.functional as F

    import npfast

    rng = np.random.default_rng(0)
    out = []

    def add(name, target, anchor, x, ours, theirs, out_bytes):
        out.append(dict(name=name, target=target, anchor=anchor, x=x, ours=ours, theirs=theirs,
                        bytes=x.nbytes + out_bytes))

    for dt in (np.float32, np.float64):
        x = rng.standard_normal((64, 16, 28, 28)).astype(dt)
        tx = torch.from_numpy(x)
        n = 64 * 16 * 14 * 14
        add(f"max_pool2d+idx 64x16x28x28 k2 {np.dtype(dt).name}", 2.0, "torch", x,
            lambda x=x: npfast.max_pool2d(x, 2, return_indices=True),
            lambda tx=tx: F.max_pool2d(tx, 2, return_indices=True), n * (x.itemsize + 8))
    x = rng.standard_normal((1, 64, 112, 112)).astype(np.float32)
    tx = torch.from_numpy(x)
    n = 64 * 56 * 56
    add("max_pool2d+idx 1x64x112x112 k3 s2 p1 float32", 3.0, "torch", x,
        lambda: npfast.max_pool2d(x, 3, 2, 1, return_indices=True),
        lambda: F.max_pool2d(tx, 3, 2, 1, return_indices=True), n * 12)
    add("max_pool2d 1x64x112x112 k3 s2 p1 float32 (values)", None, "torch", x,
        lambda: npfast.max_pool2d(x, 3, 2, 1), lambda: F.max_pool2d(tx, 3, 2, 1), n * 4)
    x2 = rng.standard_normal((32, 64, 56, 56)).astype(np.float32)
    tx2 = torch.from_numpy(x2)
    add("avg_pool2d 32x64x56x56 k2 float32", 1.5, "torch", x2,
        lambda: npfast.avg_pool2d(x2, 2), lambda: F.avg_pool2d(tx2, 2), x2.nbytes // 4)
    a = rng.standard_normal((3001, 200))
    add("max_pool2d+idx 3001x200 k3 float64 (2-D)", 20.0, "numpy", a,
        lambda: npfast.max_pool2d(a, 3, return_indices=True), lambda: _numpy_pool3(a),
        1000 * 66 * 16)
    return out


def run(quick: bool = False) -> list[dict]:
    import torch

    import npfast

    os.environ.pop("OPENBLAS_CORETYPE", None)
    os.environ.pop("OPENBLAS_L2_SIZE", None)
    torch.set_num_threads(THREADS)
    before = npfast.get_num_threads()
    npfast.set_num_threads(THREADS)
    rows = []
    try:
        for c in cases():
            rounds = 7 if quick else 21
            (ours, ours_best), (theirs, theirs_best) = _median_times(
                [c["ours"], c["theirs"]], rounds, 4e-3)
            gbs = c["bytes"] / ours / 1e9
            rows.append(dict(name=c["name"], times={"npfast": ours, c["anchor"]: theirs},
                             best={"npfast": ours_best, c["anchor"]: theirs_best},
                             ratio=theirs / ours, best_ratio=theirs_best / ours_best,
                             target=c["target"], gbs=gbs, fraction=gbs / LIMIT_GBS,
                             best_gbs=c["bytes"] / ours_best / 1e9))
    finally:
        npfast.set_num_threads(before)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes and rounds")
    quick = parser.parse_args().quick
    print(f"pooling, {THREADS} threads; ratio = anchor time / npfast time (same run, medians; "
          f"[best-of in brackets]); GB/s of input+output+indices vs {LIMIT_GBS:.0f} GB/s")
    for r in run(quick):
        (anchor, t_anchor), = [(k, v) for k, v in r["times"].items() if k != "npfast"]
        target = f"target >= {r['target']:.1f}x" if r["target"] else ""
        ok = "" if not r["target"] else ("  ok" if r["ratio"] >= r["target"] else "  BELOW")
        print(f"{r['name']:50s} npfast {r['times']['npfast'] * 1e6:7.0f} us  {anchor} "
              f"{t_anchor * 1e6:7.0f} us  ratio {r['ratio']:6.2f}x [{r['best_ratio']:6.2f}x] "
              f"{target:15s}{r['gbs']:5.1f} GB/s ({r['fraction'] * 100:3.0f}%) "
              f"[{r['best_gbs']:5.1f} GB/s ({r['best_gbs'] / LIMIT_GBS * 100:3.0f}%)]{ok}")


if __name__ == "__main__":
    main()
