"""scaling: the headline cases at each thread count beside their anchors at the same count,
speed-up against threads, and a cliff check over sizes at every thread count."""

from __future__ import annotations

import os
import statistics

import numpy as np

import npfast

from .anchors import npfast_has, optional
from .limits import _size as limits_size, bandwidth_now, copy_bandwidth, same_bytes_copy, \
    stream_bandwidth
from .plots import line_plot
from .section import Section, ratio
from .timing import compare, fmt_time, samples

NAME = "scaling"
TITLE = "scaling: npfast and its anchors at 1, 2, 4, ... threads; cliffs over sizes"

# A size step costs at most this much time per element over the best smaller size (issue 20).
CLIFF = 1.3
STREAMING = 0.70  # share of the measured bandwidth that excuses the step past the cache edge


def pool_counters() -> dict:
    """npfast's pool back-off counters (threaded jobs, losses, serial jobs), {} if absent."""
    from npfast import _npfast

    get = getattr(_npfast, "_pool_counters", None)
    return get() if get else {}


def thread_counts(ctx) -> list:
    """--threads, else the powers of two up to the usable cores (and the cores themselves)."""
    if ctx.threads:
        return list(ctx.threads)
    cores = len(os.sched_getaffinity(0))
    counts = [1]
    while counts[-1] * 2 <= cores:
        counts.append(counts[-1] * 2)
    if counts[-1] != cores:
        counts.append(cores)
    return counts[:2] if ctx.mode == "tiny" else counts


class Threads:
    """Sets npfast, torch, OpenCV and NumPy's BLAS (threadpoolctl) to one thread count."""

    def __init__(self, torch, cv2):
        self.torch, self.cv2 = torch, cv2
        tpc, _ = optional("threadpoolctl")
        self.tpc = tpc
        self.limiter = None

    def set(self, n: int) -> None:
        # The old limiter first: threadpoolctl's restore_original_limits() resets every
        # library it lists, npfast included, whatever user_api the limit named. Restored after
        # npfast.set_num_threads(n), it had put npfast back on the previous count, so every
        # "2 threads" row of this section ran npfast on one thread.
        if self.limiter is not None:
            self.limiter.restore_original_limits()
            self.limiter = None
        npfast.set_num_threads(n)
        if self.torch is not None:
            self.torch.set_num_threads(n)
        if self.cv2 is not None:
            self.cv2.setNumThreads(n)
        if self.tpc is not None:
            self.limiter = self.tpc.threadpool_limits(n, user_api="blas")

    def restore(self, n: int) -> None:
        if self.limiter is not None:
            self.limiter.restore_original_limits()
            self.limiter = None
        self.set(n)
        if self.limiter is not None:  # NumPy's BLAS back to its own count, npfast stays at n
            self.limiter.restore_original_limits()
            self.limiter = None


def cases(ctx, torch, cv2):
    """(name, anchor name, {tool: fn}) for each headline case, sized for the mode."""
    rng = np.random.default_rng(0)
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    tiny, quick = ctx.mode == "tiny", ctx.mode == "quick"
    out = []
    # conv-cnn: ResNet 3x3 64->64 @56, batch 1 (the rows), forward and forward+backward.
    c, hw = (8, 12) if tiny else (64, 56)
    x, w = f32(1, c, hw, hw), f32(c, c, 3, 3) * 0.1
    gy = np.ones((1, c, hw, hw), np.float32)
    ours_fwd = lambda: npfast.conv2d(x, w, padding=1)  # noqa: E731

    def ours_bwd():
        npfast.conv2d(x, w, padding=1)
        npfast.conv2d_backward(gy, x, w, padding=1, output_mask=(True, True, False))

    fns_fwd, fns_bwd = {"npfast": ours_fwd}, {"npfast": ours_bwd}
    if torch is not None:
        tx, tw, tgy = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(gy)
        txg, twg = tx.clone().requires_grad_(), tw.clone().requires_grad_()

        def torch_fwd():
            with torch.no_grad():
                return torch.nn.functional.conv2d(tx, tw, padding=1)

        def torch_bwd():
            txg.grad = twg.grad = None
            torch.nn.functional.conv2d(txg, twg, padding=1).backward(tgy)

        fns_fwd["torch"], fns_bwd["torch"] = torch_fwd, torch_bwd
    name = f"conv 3x3 {c}->{c} @{hw} N=1"
    out += [(f"{name} fwd", "torch", fns_fwd), (f"{name} fwd+bwd", "torch", fns_bwd)]
    # correlate 3x3 / 7x7 'same', float32: OpenCV's filter2D (threaded) when present.
    n = 64 if tiny else 1000 if quick else 2000
    img = f32(n, n)
    for k in (3, 7):
        ker = f32(k, k)
        fns = {"npfast": lambda img=img, ker=ker: npfast.correlate2d(img, ker, mode="same")}
        if cv2 is not None:
            fns["opencv"] = lambda img=img, ker=ker: cv2.filter2D(img, -1, ker,
                                                                  borderType=cv2.BORDER_CONSTANT)
        out.append((f"correlate {k}x{k} {n}x{n}", "opencv", fns))
    # max_pool2d 3x3/2 pad 1.
    shape = (1, 4, 16, 16) if tiny else (8, 64, 56, 56) if quick else (8, 64, 112, 112)
    p = f32(*shape)
    fns = {"npfast": lambda: npfast.max_pool2d(p, 3, 2, 1)}
    if torch is not None:
        tp = torch.from_numpy(p)

        def torch_pool():
            with torch.no_grad():
                return torch.nn.functional.max_pool2d(tp, 3, 2, 1)

        fns["torch"] = torch_pool
    out.append((f"max_pool2d 3x3/2 {'x'.join(map(str, shape))}", "torch", fns))
    # matmul sweep against NumPy's BLAS.
    for m in ([32] if tiny else [128, 512] if quick else [128, 256, 512, 1000, 2000]):
        a, b = f32(m, m), f32(m, m)
        out.append((f"matmul {m}x{m} float32", "numpy",
                    {"npfast": lambda a=a, b=b: npfast.matmul(a, b), "numpy": lambda a=a, b=b: a @ b}))
    # convert uint8 -> float32 with scale (NumPy's anchor is single-threaded).
    size = 1 << (12 if tiny else 22 if quick else 26)
    u8 = rng.integers(0, 256, size, dtype=np.uint8)
    out.append((f"convert uint8->float32 {size >> 20}M" if size >= 1 << 20 else
                f"convert uint8->float32 {size}", "numpy",
                {"npfast": lambda: npfast.convert(u8, np.float32, 1 / 255),
                 "numpy": lambda: u8.astype(np.float32) * np.float32(1 / 255)}))
    return out


def cliff_sizes(ctx):
    return ([32, 48, 64] if ctx.mode == "tiny" else
            [64, 96, 128, 192, 256, 384, 512, 768, 1000] if ctx.mode == "quick" else
            [64, 96, 128, 192, 256, 350, 384, 500, 512, 768, 1000, 1500, 2000, 3000, 4000])


def copy_times(ctx, sizes) -> dict:
    """Time per element of np.copyto between two s x s float32 arrays (one thread), the sizes
    interleaved in rounds as the cliff check times them: beside a correlate cliff, whether a
    copy moving the same bytes steps as much between the two sizes, i.e. whether the step is
    the machine's memory hierarchy (docs/corr2d.md, "cold")."""
    fns, elems = {}, {}
    for s in sizes:
        a = np.ones((s, s), np.float32)
        b = np.empty_like(a)
        fns[s], elems[s] = (lambda a=a, b=b: np.copyto(b, a)), a.size
    got = compare(fns, ctx.budget / 8, min_rounds=5)
    return {s: got[s] / elems[s] for s in sizes}


def cliff_calls(what, sizes, rng) -> dict:
    """{size: (call, elements, input)} for one kind of the cliff check."""
    out = {}
    for s in sizes:
        a = rng.standard_normal((s, s)).astype(np.float32)
        if what.startswith("correlate"):
            k = np.ones((3, 3), np.float32)
            out[s] = (lambda a=a, k=k: npfast.correlate2d(a, k, mode="same")), s * s, a
        else:
            out[s] = (lambda a=a: npfast.matmul(a, a)), s ** 3, a
    return out


def streams_past_edge(streaming_kind, moved, elems, edge, bw, per) -> bool:
    """Whether a call moving `moved` bytes in `per` seconds per element (of `elems`) left the
    measured cache edge and streams at STREAMING of the bandwidth `bw` (as it stood in the
    same rounds: BandwidthNow): the one step allowed."""
    return bool(streaming_kind and edge and bw and moved > edge and
                moved / (per * elems) >= STREAMING * float(bw))


def cliffs(ctx, counts, th):
    """Time per element of correlate 3x3 and of matmul over sizes, at every thread count: a
    size whose time per element exceeds CLIFF x the best at a smaller size is a cliff, unless
    its data left the measured cache edge and the call streams at STREAMING of the bandwidth
    measured at the same thread count (the one step issue 20 allows; matmul's data never
    leaves the cache blocks).

    The sizes of one kind are timed together, interleaved in rounds (`timing.compare`: each
    round times every size once, in reverse order every other round, the process let go quiet
    and the size's data warmed up before each sample), and each size's figure is its median
    over the rounds. Timed one size after another, a burst of the host's or another process's
    load during one size read as a cliff at that size (docs/threads.md, "cliff20"); interleaved,
    such a burst spreads over all sizes' samples of one round and the medians drop it, while a
    real step shows in every round."""
    rng = np.random.default_rng(2)
    edge, bw_all = ctx.limits.get("cache_edge"), ctx.limits.get("bandwidth")
    cores = len(os.sched_getaffinity(0))
    found, retimed, checked, used = [], [], 0, {}
    for t in counts:
        th.set(t)
        # The bandwidth t threads can draw: one core alone reaches well under the machine's
        # (docs/decisions.md, "the bandwidth at the call's thread count").
        bw = bw_all if t >= cores or not bw_all else \
            stream_bandwidth(limits_size(ctx.mode), 3)
        copy_bw = ctx.limits.get("copy_bandwidth") if t >= cores or not bw_all else \
            copy_bandwidth(limits_size(ctx.mode), 3)
        if bw:
            used[t] = float(bw)
        for what in ("correlate 3x3", "matmul float32"):
            sizes = cliff_sizes(ctx) if what.startswith("correlate") else \
                [s for s in cliff_sizes(ctx) if s <= 2000]
            calls = cliff_calls(what, sizes, rng)
            fns = {sz: fn for sz, (fn, _, _) in calls.items()}
            elems = {sz: e for sz, (_, e, _) in calls.items()}
            copies = {}  # past the edge: a copy of the input's bytes in the same rounds
            if what.startswith("correlate") and edge and copy_bw:
                copies = {("copy", sz): same_bytes_copy(a) for sz, (_, _, a) in calls.items()
                          if 2 * a.nbytes > edge}
                fns.update({key: call for key, (call, _) in copies.items()})
            got = samples(fns, ctx.budget / 4, min_rounds=5)
            best = None
            for s in sizes:
                per = statistics.median(got[s]) / elems[s]
                checked += 1
                moved = 2 * 4 * s * s  # correlate: read once, write once (float32)
                copy = copies.get(("copy", s))
                now = bandwidth_now(bw, copy_bw, moved, got[("copy", s)]) if copy else bw

                def streams(per_elem, s=s, moved=moved):  # against `now` as it stands then
                    return streams_past_edge(what.startswith("correlate"), moved, elems[s],
                                             edge, now, per_elem)

                if best is not None and per > CLIFF * best[1] and not streams(per):
                    # Timed again head to head with the best smaller size (more rounds,
                    # alternating), the copy beside them: a step that is the code's shows
                    # again, one that was a few seconds of someone else's load does not.
                    b = best[0]
                    again = samples({b: fns[b], s: fns[s],
                                     **({"copy": copy[0]} if copy else {})}, 0, 9, 9)
                    pb = statistics.median(again[b]) / elems[b]
                    ps = statistics.median(again[s]) / elems[s]
                    if copy:
                        now = bandwidth_now(bw, copy_bw, moved, again["copy"])
                    if ps > CLIFF * pb and not streams(ps):
                        text = (f"{what} at {t} threads: {s}x{s} takes {per / best[1]:.2f}x the "
                                f"time per element of {b}x{b} (timed again head to head: "
                                f"{ps / pb:.2f}x)")
                        if what.startswith("correlate"):
                            cp = copy_times(ctx, [b, s])
                            text += (f" (np.copyto of the same bytes, one thread: "
                                     f"{cp[s] / cp[b]:.2f}x)")
                            if copy and now:
                                text += (f", {moved / (ps * elems[s]) / float(now):.0%} of the "
                                         f"bandwidth as it stood ({float(now) / 1e9:.0f} GB/s)")
                        found.append(text)
                    else:
                        retimed.append(f"{what} at {t} threads: {s}x{s} {per / best[1]:.2f}x "
                                       f"{b}x{b}, again {ps / pb:.2f}x")
                if best is None or per < best[1]:
                    best = (s, per)
            del calls, fns, copies  # the arrays: up to 280 MB for correlate
    return found, retimed, checked, used


def run(ctx, out_dir):
    missing = npfast_has("conv2d", "conv2d_backward", "correlate2d", "max_pool2d", "matmul")
    if missing:
        return Section(NAME, TITLE, skipped=missing)
    torch, why_torch = optional("torch")
    cv2, why_cv2 = optional("cv2")
    counts = thread_counts(ctx)
    cores = len(os.sched_getaffinity(0))
    sec = Section(NAME, TITLE, columns=["case", "threads", "anchor", "anchor time", "npfast",
                                        "npfast speed-up", "npfast vs its 1 thread",
                                        "anchor vs its 1 thread"])
    for why in (why_torch, why_cv2):
        if why:
            sec.note(f"rows without that anchor: {why}")
    th = Threads(torch, cv2)
    before = npfast.get_num_threads()
    speedups, backoff = {}, []
    try:
        all_cases = cases(ctx, torch, cv2)
        for i, (name, anchor, fns) in enumerate(all_cases):
            ctx.progress("scaling", i, len(all_cases))
            base = {}
            for t in counts:
                th.set(t)
                c0 = pool_counters()
                times = compare(fns, ctx.budget, min_rounds=3)
                c1 = pool_counters()
                if c1 and c1["serial"] > c0["serial"]:
                    backoff.append(f"{name} at {t} threads: {c1['losses'] - c0['losses']} of "
                                   f"{c1['threaded'] - c0['threaded']} jobs lost, "
                                   f"{c1['serial'] - c0['serial']} run serial after them")
                ours, theirs = times["npfast"], times.get(anchor)
                base.setdefault("npfast", ours)
                if theirs is not None:
                    base.setdefault(anchor, theirs)
                speedups.setdefault(name, {})[t] = base["npfast"] / ours
                label = f"{t}" + (f" (runs on {cores})" if t > cores else "")
                sec.rows.append([name, label, anchor if theirs is not None else "-",
                                 fmt_time(theirs), fmt_time(ours), ratio(theirs, ours),
                                 f"{base['npfast'] / ours:.2f}x",
                                 f"{base[anchor] / theirs:.2f}x" if theirs is not None else "-"])
        ctx.progress("scaling", len(all_cases), len(all_cases))
        found, retimed, checked, used = cliffs(ctx, counts, th)
    finally:
        th.restore(before)
    sec.note("Each case is timed at each thread count with its anchor set to the same count "
             "(torch.set_num_threads, cv2.setNumThreads, threadpoolctl for NumPy's BLAS; NumPy's "
             "own loops are single-threaded). npfast never runs more threads than usable cores "
             f"({cores} here): a larger count runs on the cores.")
    if backoff:
        sec.note("npfast's back-off (docs/threads.md: a threaded job slower than its caller "
                 "alone would have been runs the next jobs serial for a while) struck these "
                 "rows, so their npfast time mixes one- and many-thread calls: " +
                 "; ".join(backoff) + ".")
    if used:
        sec.note("The streaming exemption past the cache edge uses the bandwidth measured at "
                 "each thread count: " + ", ".join(f"{t} threads {b / 1e9:.1f} GB/s"
                                                   for t, b in used.items()) +
                 ", as it stood while each size was timed: scaled down by how npfast.convert "
                 "copying the same bytes in the same rounds compares with the copy probe at that "
                 "thread count (docs/decisions.md, 'the bandwidth in the same rounds').")
    sec.note("The cliff check times the sizes of each kind interleaved in rounds (medians); a "
             "size over the limit is timed again head to head with the best smaller size and "
             "counts as a cliff only if it is over the limit again (docs/threads.md, cliff20).")
    if retimed:
        sec.note("Over the limit once, under it when timed again (host noise, not counted): " +
                 "; ".join(retimed) + ".")
    if found:
        sec.note(f"Cliffs (time per element over {CLIFF}x the best at a smaller size) in "
                 f"{checked} sizes checked: " + "; ".join(found))
    else:
        sec.note(f"No cliff: in {checked} sizes of correlate 3x3 and matmul at "
                 f"{', '.join(map(str, counts))} threads, time per element never exceeded "
                 f"{CLIFF}x the best at a smaller size.")
    series = {name: (counts, [v.get(t) for t in counts]) for name, v in speedups.items()}
    series["ideal"] = (counts, [float(t) for t in counts])
    plot = line_plot(os.path.join(out_dir, "scaling.png"), "npfast speed-up against threads",
                     "threads", "time at 1 thread / time", series)
    if plot:
        sec.plots.append(plot)
    return sec
