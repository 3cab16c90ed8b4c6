"""ndimage: the scipy.ndimage filters, time per pixel against image size, npfast beside SciPy
and OpenCV (same taps and border), with a cliff check and a 3-D row."""

from __future__ import annotations

import os
import statistics

import numpy as np

import npfast

from .anchors import npfast_has, optional
from .limits import bandwidth_now, same_bytes_copy, system_llc
from .plots import line_plot
from .section import Section, pct, ratio
from .timing import compare, samples

NAME = "ndimage"
TITLE = "ndimage: scipy.ndimage filters, time per pixel against image size"

SIDES = {"tiny": [32, 64], "quick": [64, 256, 1024, 4000],
         "full": [64, 128, 256, 512, 1024, 2048, 4000, 8000]}
VOLUME = {"tiny": 16, "quick": 96, "full": 256}
# The cliff check's second sweep: n^3 float32 volumes, whose planes make tall narrow images
# (cliff20 and vol21 found steps there that the square sweep did not show).
VOLUME_SIDES = {"tiny": [8, 16], "quick": [32, 64, 128],
                "full": [32, 48, 64, 96, 128, 192, 256]}
# SciPy is skipped at sizes where one call would take longer than this (its median runs
# seconds per megapixel); the ratio is then reported at the sizes it ran.
SCIPY_CALL_CAP = {"tiny": 0.5, "quick": 0.5, "full": 3.0}
CLIFF = 1.3  # time per pixel above CLIFF x the best at a smaller size is a cliff ...
STREAMING = 0.70  # ... unless the data left the LLC and the filter streams at this share of bw
SLOW_HOST = 1.1  # the limit over the bandwidth a same-round copy saw: above this, say so
# The cliff check times npfast again over all sizes in interleaved rounds (every size once a
# round, ABBA order) and takes each size's median: the table's rows are measured one size
# after another, so a burst of the host's load during one size made a fake cliff there (or hid
# one behind a slow smaller size).
CLIFF_ROUNDS = {"tiny": 3, "quick": 5, "full": 7}


def _gauss_taps(sigma):
    """SciPy's gaussian_filter1d weights (radius int(4 sigma + 0.5)), for OpenCV's filter."""
    r = int(4.0 * sigma + 0.5)
    x = np.arange(-r, r + 1, dtype=np.float64)
    w = np.exp(-0.5 / sigma ** 2 * x ** 2)
    return (w / w.sum()).astype(np.float32)


def _filters(cv2, ndi):
    """(label, dtype, memory-bound, npfast call, SciPy call, OpenCV call or None). Modes are
    OpenCV's borders: reflect = BORDER_REFLECT; medianBlur replicates (mode 'nearest')."""
    nd = npfast.ndimage
    rows = []
    refl = cv2.BORDER_REFLECT if cv2 is not None else None
    taps = _gauss_taps(2.0)
    box = np.ones((5, 5), np.uint8)

    def cv(fn):
        return fn if cv2 is not None else None

    # The linear filters on float32 (memory-bound rows) and on uint8 (SciPy computes in
    # double, then truncates: npfast gives its bits; OpenCV rounds and saturates 8-bit outputs,
    # so its column is the speed of the usual call, not the same numbers; no volume sweep).
    for dt, tag, depth, membound in ((np.float32, "", "CV_32F", True),
                                     (np.uint8, " uint8", "CV_8U", False)):
        d = getattr(cv2, depth) if cv2 is not None else None
        rows.append((f"gaussian_filter sigma 2{tag}", dt, membound,
                     lambda x: nd.gaussian_filter(x, 2.0), lambda x: ndi.gaussian_filter(x, 2.0),
                     cv(lambda x, d=d: cv2.sepFilter2D(x, d, taps, taps, borderType=refl))))
        rows.append((f"uniform_filter 5{tag}", dt, membound,
                     lambda x: nd.uniform_filter(x, 5), lambda x: ndi.uniform_filter(x, 5),
                     cv(lambda x: cv2.blur(x, (5, 5), borderType=refl))))
        rows.append((f"sobel{tag}", dt, membound, lambda x: nd.sobel(x), lambda x: ndi.sobel(x),
                     cv(lambda x, d=d: cv2.Sobel(x, d, 1, 0, ksize=3, borderType=refl))))
    rows.append(("minimum_filter 5", np.float32, True,
                 lambda x: nd.minimum_filter(x, 5), lambda x: ndi.minimum_filter(x, 5),
                 cv(lambda x: cv2.erode(x, box, borderType=refl))))
    rows.append(("maximum_filter 5", np.float32, True,
                 lambda x: nd.maximum_filter(x, 5), lambda x: ndi.maximum_filter(x, 5),
                 cv(lambda x: cv2.dilate(x, box, borderType=refl))))
    for k, dt in ((3, np.float32), (5, np.float32), (3, np.uint8), (7, np.uint8)):
        rows.append((f"median_filter {k} {np.dtype(dt).name}", dt, False,
                     lambda x, k=k: nd.median_filter(x, k, mode="nearest"),
                     lambda x, k=k: ndi.median_filter(x, k, mode="nearest"),
                     cv(lambda x, k=k: cv2.medianBlur(x, k))))
    # A window no sorting network takes (the sorted tiles; docs/ndimage-speed.md "tile25"):
    # OpenCV's medianBlur takes float32 windows of 3 and 5 only.
    rows.append(("median_filter 9 float32", np.float32, False,
                 lambda x: nd.median_filter(x, 9, mode="nearest"),
                 lambda x: ndi.median_filter(x, 9, mode="nearest"), None))
    return rows


def run(ctx, out_dir):
    sec = Section(NAME, TITLE, columns=["filter", "image", "npfast /px", "SciPy /px",
                                        "OpenCV /px", "vs SciPy", "vs OpenCV", "GB/s",
                                        "% of bw", "copy /px"])
    ndi, why = optional("scipy.ndimage")
    if ndi is None:
        sec.skipped = why
        return sec
    missing = npfast_has("ndimage.gaussian_filter", "ndimage.median_filter")
    if missing:
        sec.skipped = missing
        return sec
    cv2, why_cv = optional("cv2")
    if cv2 is None:
        sec.note(f"OpenCV columns empty: {why_cv}")
    else:
        cv2.setNumThreads(npfast.get_num_threads())
    bw = ctx.limits.get("bandwidth")
    copy_bw = ctx.limits.get("copy_bandwidth")
    llc = ctx.limits.get("cache_edge") or system_llc()
    rng = np.random.default_rng(0)
    sides = SIDES[ctx.mode]
    cliffs, series, slow = [], {}, []
    for label, dtype, membound, ours, theirs, cvf in _filters(cv2, ndi):
        per_px = {"npfast": [], "SciPy": [], "OpenCV": []}
        scipy_last = None  # (seconds, pixels) of SciPy's last run
        inputs = {}
        for n in sides:
            if np.dtype(dtype).kind == "f":
                x = rng.standard_normal((n, n)).astype(dtype)
            else:
                x = rng.integers(0, 256, (n, n)).astype(dtype)
            px = x.size
            inputs[n] = x
            fns = {"npfast": lambda: ours(x)}
            if scipy_last is None or \
                    scipy_last[0] * px / scipy_last[1] <= SCIPY_CALL_CAP[ctx.mode]:
                fns["SciPy"] = lambda: theirs(x)
            if cvf is not None:
                fns["OpenCV"] = lambda: cvf(x)
            if membound:  # the pace of a copy of the same bytes in the same rounds
                fns["copy"], moved = same_bytes_copy(x)
            big = px * x.itemsize > (4 << 20)
            got = samples(fns, ctx.budget, min_rounds=3 if big else 5,
                          max_rounds=8 if big else 50)
            times = {tool: statistics.median(v) for tool, v in got.items()}
            if "SciPy" in times:
                scipy_last = (times["SciPy"], px)
            t = times["npfast"]
            for tool in per_px:
                per_px[tool].append(times[tool] / px if tool in times else None)
            nbytes = 2 * x.nbytes  # read once, write once: what a one-pass filter moves
            rate = nbytes / t
            share = pct(rate, bw) if membound else "-"
            now = bandwidth_now(bw, copy_bw, moved, got["copy"]) if membound else None
            if llc and nbytes > llc and now and now is not bw and now.slowed > SLOW_HOST:
                slow.append(f"{label} {n}x{n} (the limit {now.slowed:.2f}x the bandwidth then)")
            sec.rows.append([label, f"{n}x{n}", _ns(t / px), _ns(times.get("SciPy"), px),
                             _ns(times.get("OpenCV"), px), ratio(times.get("SciPy"), t),
                             ratio(times.get("OpenCV"), t), f"{rate / 1e9:.1f}", share,
                             _ns(times.get("copy"), px)])
        series[label] = per_px
        cliffs += _cliffs(label, ours, inputs, CLIFF_ROUNDS[ctx.mode], llc, bw,
                          copy_bw if membound else None)
        if membound:
            volumes = {n: rng.standard_normal((n, n, n)).astype(dtype)
                       for n in VOLUME_SIDES[ctx.mode]}
            cliffs += _cliffs(f"{label} (3-D)", ours, volumes, CLIFF_ROUNDS[ctx.mode], llc, bw,
                              copy_bw, side=lambda n: f"{n}^3")
    _volume_row(sec, ctx, ndi, rng, bw)
    sec.note("Per-pixel times; ratios > 1: npfast is faster, from the same interleaved rounds. "
             "OpenCV: sepFilter2D with SciPy's 17 Gaussian taps (GaussianBlur's own taps "
             "differ), blur, Sobel CV_32F, erode/dilate, medianBlur; borders as SciPy's mode "
             "(reflect; medians 'nearest', OpenCV's only border for medianBlur).")
    sec.note("GB/s and % of bw count one read and one write of the image (the one-pass "
             "ideal), shown against the measured bandwidth (the better of read and write alone) "
             "for the memory-bound filters; the targets use % of bw. 'copy /px': npfast.convert "
             "copying the same image in the same rounds (the limits section's copy probe), the "
             "pace of the host's memory while the row was timed.")
    if slow:
        sec.note("Rows past the cache edge timed while the host's memory was slow (the same "
                 f"rounds' fastest copy under {1 / SLOW_HOST:.0%} of the copy probe; their % of "
                 "bw counts against the probe's bandwidth all the same): " + "; ".join(slow) +
                 ".")
    sec.note(f"SciPy is skipped where one call would exceed {SCIPY_CALL_CAP[ctx.mode]} s "
             "(extrapolated from its last size).")
    load = os.getloadavg()[0]
    cores = len(os.sched_getaffinity(0))
    if load > cores:
        sec.note(f"Loaded machine: load average {load:.1f} on {cores} cores at the end of this "
                 "section; absolute times and the cliff check are noisy, ratios less so.")
    llc_text = f"{llc >> 20} MiB" if llc else "unknown"
    if ctx.limits.get("cache_edge"):
        llc_text += " (the cache edge measured in the limits section)"
    how = (f"npfast over all sizes in {CLIFF_ROUNDS[ctx.mode]} interleaved rounds, medians, "
           "the squares above and, for the memory-bound filters, float32 volumes of "
           f"{', '.join(str(n) for n in VOLUME_SIDES[ctx.mode])} cubed; "
           "for the memory-bound filters a copy of each size past the edge in the same rounds "
           "gives the bandwidth as it stood, docs/decisions.md")
    if cliffs:
        sec.note(f"Cliffs (> {CLIFF}x the best smaller size, not explained by leaving the "
                 f"{llc_text} LLC at >= {STREAMING:.0%} of bw as it stood; {how}): " +
                 "; ".join(cliffs))
    else:
        sec.note(f"No cliff: per-pixel time never above {CLIFF}x the best at a smaller size "
                 f"(or the data left the {llc_text} LLC and streamed at >= {STREAMING:.0%} of "
                 f"bw as it stood; {how}).")
    for label, per_px in series.items():
        plot = line_plot(os.path.join(out_dir, f"ndimage_{label.replace(' ', '_')}.png"),
                         f"{label}: time per pixel", "image side n (n x n)", "ns per pixel",
                         {tool: (sides, [None if v is None else v * 1e9 for v in vals])
                          for tool, vals in per_px.items()}, logy=True, logx=True)
        if plot:
            sec.plots.append(plot)
    return sec


def _cliffs(label, ours, inputs, rounds, llc, bw, copy_bw, side=lambda n: f"{n}x{n}"):
    """The cliffs of one filter's sweep (`inputs`: side n -> array, named by side(n)): sizes
    slower per pixel than CLIFF x the best at a smaller size, unless the data left the LLC and
    the filter streamed at STREAMING of the measured bandwidth there, as it stood in the same
    rounds (`bandwidth_now`; `copy_bw` None: not a memory-bound filter, judged against `bw`
    itself). Timed anew, every size once a round in interleaved rounds (CLIFF_ROUNDS), each
    size's median: a noise burst then spoils one round of every size it overlaps, not a size's
    every sample."""
    fns, moved = {n: (lambda x=x: ours(x)) for n, x in inputs.items()}, {}
    for n, x in inputs.items():
        if copy_bw and llc and 2 * x.nbytes > llc:
            fns[("copy", n)], moved[n] = same_bytes_copy(x)
    got = samples(fns, 0, min_rounds=rounds, max_rounds=rounds)
    found, best_smaller = [], None
    for n, x in inputs.items():
        per = statistics.median(got[n]) / x.size
        if best_smaller is not None and per > CLIFF * best_smaller[0]:
            nbytes = 2 * x.nbytes  # read once, write once, as the table's GB/s
            rate = nbytes / (per * x.size)
            now = bandwidth_now(bw, copy_bw, moved[n], got[("copy", n)]) if n in moved else bw
            streams = llc and nbytes > llc and now and rate >= STREAMING * float(now)
            if not streams:
                share = f", {rate / float(now):.0%} of bw" if now else ""
                if now is not bw and now.slowed > 1.0:
                    share += f" as it stood ({float(now) / 1e9:.0f} GB/s)"
                found.append(f"{label} at {side(n)}: {per / best_smaller[0]:.2f}x the best "
                             f"per-pixel time at a smaller size ({_ns(per)} against "
                             f"{_ns(best_smaller[0])} at {side(best_smaller[1])}{share})")
        if best_smaller is None or per < best_smaller[0]:
            best_smaller = (per, n)
    return found


def _volume_row(sec, ctx, ndi, rng, bw):
    n = VOLUME[ctx.mode]
    v = rng.standard_normal((n, n, n)).astype(np.float32)
    copy, _ = same_bytes_copy(v)
    times = compare({"npfast": lambda: npfast.ndimage.gaussian_filter(v, 2.0),
                     "SciPy": lambda: ndi.gaussian_filter(v, 2.0), "copy": copy}, ctx.budget,
                    min_rounds=3, max_rounds=10)
    t = times["npfast"]
    rate = 2 * v.nbytes / t
    sec.rows.append(["gaussian_filter sigma 2 (3-D)", f"{n}^3", _ns(t / v.size),
                     _ns(times["SciPy"], v.size), "-", ratio(times["SciPy"], t), "-",
                     f"{rate / 1e9:.1f}", pct(rate, bw), _ns(times["copy"], v.size)])


def _ns(seconds, px=1):
    return "-" if seconds is None else f"{seconds / px * 1e9:.2f} ns"
