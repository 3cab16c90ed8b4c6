"""conv-sweep: a 3x3 'same' correlation over square images, every tool, time per pixel."""

from __future__ import annotations

import os

import numpy as np

import npfast

from .anchors import npfast_has, optional
from .plots import line_plot
from .section import Section, pct, ratio
from .spellings import conv2d_as_strided_dot
from .timing import compare

NAME = "conv_sweep"
TITLE = "conv-sweep: 3x3 'same' correlation, float32, time per pixel"


def sizes(mode):
    if mode == "tiny":
        return [10, 24, 48]
    if mode == "quick":
        return [10, 16, 24, 32, 48, 64, 96, 128, 160, 192, 224, 256, 300]
    return list(range(16, 321, 8)) + list(range(400, 2001, 100))


def tools(img, k):
    """name -> callable for this image, for every tool installed."""
    out = {}
    if not npfast_has("correlate2d"):
        out["npfast"] = lambda: npfast.correlate2d(img, k, mode="same")
    out["as_strided + np.dot"] = lambda: conv2d_as_strided_dot(img, k)
    signal, _ = optional("scipy.signal")
    ndimage, _ = optional("scipy.ndimage")
    if signal is not None:
        out["scipy.signal.correlate2d"] = lambda: signal.correlate2d(img, k, mode="same")
    if ndimage is not None:
        out["scipy.ndimage.correlate"] = lambda: ndimage.correlate(img, k, mode="constant")
    torch, _ = optional("torch")
    if torch is not None:
        ti = torch.from_numpy(img)[None, None]
        tk = torch.from_numpy(k)[None, None]
        fconv = torch.nn.functional.conv2d

        def torch_conv():
            with torch.no_grad():
                return fconv(ti, tk, padding=1).numpy()

        out["torch conv2d"] = torch_conv
    cv2, _ = optional("cv2")
    if cv2 is not None:
        out["cv2.filter2D"] = lambda: cv2.filter2D(img, -1, k, borderType=cv2.BORDER_CONSTANT)
    return out


def run(ctx, out_dir):
    sec = Section(NAME, TITLE)
    missing = npfast_has("correlate2d")
    if missing:
        sec.note(f"npfast column skipped: {missing}")
    for mod in ["scipy", "torch", "cv2"]:
        if optional(mod)[0] is None:
            sec.note(f"{mod} not installed: its column is skipped")
    rng = np.random.default_rng(0)
    k = rng.standard_normal((3, 3)).astype(np.float32)
    ns = sizes(ctx.mode)
    per_px = {}
    budget = ctx.budget if ctx.mode != "full" else 0.25
    for i, n in enumerate(ns):
        ctx.progress("conv-sweep", i, len(ns))
        img = rng.standard_normal((n, n)).astype(np.float32)
        times = compare(tools(img, k), budget, min_rounds=3)
        for name, t in times.items():
            per_px.setdefault(name, {})[n] = t / (n * n) * 1e9
    ctx.progress("conv-sweep", len(ns), len(ns))
    names = list(per_px)
    sec.columns = ["n"] + [f"{t} ns/px" for t in names]
    if "npfast" in per_px:
        sec.columns += ["npfast GB/s", "% of bw"]
    show = ns if ctx.mode != "full" else [n for n in ns if n in (16, 48, 96, 160, 240, 320) or n >= 400 and n % 400 == 0]
    for n in show:
        row = [str(n)] + [f"{per_px[t][n]:.2f}" for t in names]
        if "npfast" in per_px:
            gbs = 8 / per_px["npfast"][n]  # 4 bytes in + 4 out per pixel
            row += [f"{gbs:.1f}", pct(gbs * 1e9, ctx.limits.get("bandwidth"))]
        sec.rows.append(row)
    if "npfast" in per_px:
        big = ns[-1]
        for t in names:
            if t != "npfast":
                sec.note(f"at {big}x{big}: npfast is {ratio(per_px[t][big], per_px['npfast'][big])} {t}")
        worst, where = cliff(per_px["npfast"])
        sec.note(f"cliff check (n >= 48): worst time/pixel vs the best at any smaller size = "
                 f"{worst:.2f}x at n={where} (target <= 2x)")
    series = {t: (ns, [per_px[t].get(n) for n in ns]) for t in names}
    plot = line_plot(os.path.join(out_dir, "conv_sweep.png"), TITLE, "image side n (n x n)",
                     "ns per pixel (log)", series, logy=True)
    if plot:
        sec.plots.append(plot)
    return sec


def cliff(ns_per_px: dict):
    """Worst ratio of time/pixel at n to the best time/pixel at any smaller n (both >= 48)."""
    worst, where = 0.0, None
    sizes_ = sorted(n for n in ns_per_px if n >= 48)
    for i, n in enumerate(sizes_[1:], 1):
        best = min(ns_per_px[m] for m in sizes_[:i])
        r = ns_per_px[n] / best
        if r > worst:
            worst, where = r, n
    return worst, where
