"""npfast 2-D correlation against scipy.ndimage, scipy.signal and OpenCV, same run.

For each case: median time per call of npfast and of the anchor (calls interleaved so both see
the same machine state), ratio = anchor_time / npfast_time (> 1: npfast faster), effective GB/s
(bytes in + out) beside the streaming limit, and for large kernels GFLOP/s beside the FMA peak
(both measured first by the report's probes, npfast._bench.limits). Then the no-cliff sweep:
best-of-samples time per pixel for square images n = 16..320 (step 8) and 400..2000 (step 100),
and the worst ratio of time/pixel to the best at any smaller size (n >= 48).

    python bench/bench_corr2d.py [--quick] [--threads 2]
"""

from __future__ import annotations

import argparse

import numpy as np
import scipy.ndimage as nd
import scipy.signal as ss

import npfast
from npfast._bench.limits import peak_flops, stream_bandwidth
from npfast._bench import timing

try:
    import cv2
except ImportError:  # pragma: no cover
    cv2 = None

# Machine limits on the benchmark's threads, measured by `run` first: GB/s and GFLOP/s per dtype.
LIMITS = {}


def _time_pair(f, g, min_sample=2e-3, samples=9):
    """Median seconds per call of f and of g in interleaved rounds (npfast._bench.timing)."""
    t = timing.compare({"f": f, "g": g}, 0.0, samples, samples, min_sample)
    return t["f"], t["g"]


def _best(f, min_sample=2e-3, samples=9):
    """Best-of-samples seconds per call: on a shared machine the minimum is what tracks the
    code (a step in it is the code's), the median mostly tracks the neighbours' load."""
    return min(timing.samples({"f": f}, 0.0, samples, samples, min_sample)["f"])


def _row(name, t_ours, anchor, t_anchor, pixels, itemsize, taps, threads, target=None):
    gbs = 2 * pixels * itemsize / t_ours / 1e9
    gflops = 2 * taps * pixels / t_ours / 1e9
    peak = LIMITS["f64" if itemsize == 8 else "f32"]
    return {
        "name": name,
        "npfast_ms": t_ours * 1e3,
        "anchor": anchor,
        "anchor_ms": t_anchor * 1e3,
        "ratio": t_anchor / t_ours,
        "target": target,
        "ns_per_px": t_ours / pixels * 1e9,
        "gbs": gbs,
        "fraction": gbs / LIMITS["stream"] if taps <= 9 else gflops / peak,
        "gflops": gflops,
        "limit": "stream" if taps <= 9 else "fma-peak",
    }


def main_cases(rng, threads, quick):
    rows = []
    n = 1000
    x32 = rng.random((n, n), dtype=np.float32)
    x64 = x32.astype(np.float64)
    k3 = rng.random((3, 3), dtype=np.float32)
    k7 = rng.random((7, 7), dtype=np.float32)
    samples = 5 if quick else 9
    # ndimage 'reflect' is OpenCV's BORDER_REFLECT (d c b a | a b c d); both centre an odd kernel.
    t, a = _time_pair(lambda: npfast.ndimage.correlate(x32, k3), lambda: nd.correlate(x32, k3),
                      samples=3 if quick else 5)
    rows.append(_row("3x3 f32 1000^2 vs ndimage.correlate", t, "scipy.ndimage", a, n * n, 4, 9, threads, 20))
    if cv2 is not None:
        t, a = _time_pair(lambda: npfast.ndimage.correlate(x32, k3),
                          lambda: cv2.filter2D(x32, -1, k3, borderType=cv2.BORDER_REFLECT), samples=samples)
        rows.append(_row("3x3 f32 1000^2 vs cv2.filter2D", t, "cv2.filter2D", a, n * n, 4, 9, threads, 1.0))
        t, a = _time_pair(lambda: npfast.ndimage.correlate(x32, k7),
                          lambda: cv2.filter2D(x32, -1, k7, borderType=cv2.BORDER_REFLECT), samples=samples)
        rows.append(_row("7x7 f32 1000^2 vs cv2.filter2D", t, "cv2.filter2D", a, n * n, 4, 49, threads, 2.0))
    k3d = k3.astype(np.float64)
    t, a = _time_pair(lambda: npfast.ndimage.correlate(x64, k3d), lambda: nd.correlate(x64, k3d),
                      samples=3 if quick else 5)
    rows.append(_row("3x3 f64 1000^2 vs ndimage.correlate", t, "scipy.ndimage", a, n * n, 8, 9, threads, 10))
    t, a = _time_pair(lambda: npfast.correlate2d(x32, k3, "same"),
                      lambda: ss.correlate2d(x32, k3, "same"), samples=3)
    rows.append(_row("3x3 f32 1000^2 vs signal.correlate2d", t, "scipy.signal", a, n * n, 4, 9, threads))
    k15 = rng.random((15, 15), dtype=np.float32)
    t, a = _time_pair(lambda: npfast.ndimage.correlate(x32, k15), lambda: nd.correlate(x32, k15), samples=3)
    rows.append(_row("15x15 f32 1000^2 vs ndimage.correlate", t, "scipy.ndimage", a, n * n, 4, 225, threads))
    # Per-call overhead: a 10x10 image against one NumPy ufunc call on it.
    s = x32[:10, :10].copy()
    t, a = _time_pair(lambda: npfast.correlate2d(s, k3, "same"), lambda: np.add(s, s), min_sample=5e-3)
    rows.append(_row("3x3 f32 10^2 vs np.add(10^2)", t, "np.add", a, 100, 4, 9, threads, 0.25))
    return rows


def cliff_sweep(rng, threads, quick):
    sizes = list(range(16, 321, 8)) + list(range(400, 2001, 100))
    if quick:
        sizes = list(range(16, 321, 24)) + [400, 700, 1000, 1500, 2000]
    k3 = rng.random((3, 3), dtype=np.float32)
    per_px = {}
    for n in sizes:
        x = rng.random((n, n), dtype=np.float32)
        per_px[n] = _best(lambda: npfast.ndimage.correlate(x, k3), samples=5 if quick else 9) / (n * n)
    worst, at = 0.0, None
    for n in sizes:
        smaller = [per_px[m] for m in sizes if 48 <= m < n]
        if smaller and n >= 48:
            r = per_px[n] / min(smaller)
            if r > worst:
                worst, at = r, n
    return per_px, worst, at


def run(quick: bool = False, threads: int = 2) -> list[dict]:
    rng = np.random.default_rng(0)
    before = npfast.get_num_threads()
    npfast.set_num_threads(threads)
    if cv2 is not None:
        cv2.setNumThreads(threads)
    try:
        LIMITS.update(stream=stream_bandwidth() / 1e9, f32=peak_flops(np.float32) / 1e9,
                      f64=peak_flops(np.float64) / 1e9)
        rows = main_cases(rng, threads, quick)
        per_px, worst, at = cliff_sweep(rng, threads, quick)
        rows.append({"name": "no-cliff sweep 3x3 f32 n=16..2000", "ratio": None, "target": 2.0,
                     "worst_step": worst, "worst_at": at,
                     "ns_per_px": {n: v * 1e9 for n, v in per_px.items()}})
    finally:
        npfast.set_num_threads(before)
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    print(f"npfast {npfast.__version__}, isa {npfast.config()['isa']}, threads {args.threads}")
    for r in run(args.quick, args.threads):
        if "worst_step" in r:
            print(f"\n{r['name']}: worst time/px vs best at a smaller size = {r['worst_step']:.2f}x "
                  f"at n={r['worst_at']} (target <= 2)")
            items = list(r["ns_per_px"].items())
            for i in range(0, len(items), 8):
                print("  " + "  ".join(f"{n:>4}:{v:6.3f}" for n, v in items[i:i + 8]))
            continue
        tgt = f" (target >= {r['target']}x)" if r["target"] else ""
        print(f"{r['name']:40s} npfast {r['npfast_ms']:8.3f} ms  {r['anchor']} {r['anchor_ms']:8.3f} ms  "
              f"ratio {r['ratio']:6.2f}x{tgt}  {r['ns_per_px']:.3f} ns/px  {r['gbs']:5.1f} GB/s "
              f"({r['gbs'] / LIMITS['stream']:.0%} of {LIMITS['stream']:.0f})  {r['gflops']:6.1f} GFLOP/s "
              f"({r['fraction']:.0%} of {r['limit']})")


if __name__ == "__main__":
    main()
