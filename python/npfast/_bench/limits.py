"""Machine limits, measured by npfast itself: every "% of peak/bandwidth" cell is a share of these.

A probe that other processes slow down reads low, and a low limit would put rows above 100%. So
each probe runs several rounds and keeps its best, once when the report starts (`run`) and once
when it ends (`finish`); every limit is the best of both.
"""

from __future__ import annotations

import os
import time

import numpy as np

import npfast
from npfast import _npfast

from .section import Limit, Section

NAME = "limits"
TITLE = "Machine limits (measured by npfast, all threads)"

ROUNDS = {"tiny": 2, "quick": 3, "full": 5}

# key, label, unit scale, unit, how
PROBES = [
    ("flops_f32", "peak fp32", 1e9, "GFLOP/s", "FMA loop, 12 chains per thread"),
    ("flops_f64", "peak fp64", 1e9, "GFLOP/s", "FMA loop"),
    ("read", "stream read", 1e9, "GB/s", "sum over {mib} MiB"),
    ("write", "stream write", 1e9, "GB/s", "non-temporal stores"),
    ("copy", "stream copy", 1e9, "GB/s",
     "read + non-temporal write, {half} MiB each (npfast.convert float32), bytes read + written"),
    ("first_touch", "first touch", 1e9, "GB/s", "mmap + write fresh pages, 1 thread"),
]


def _size(mode: str) -> int:
    return {"tiny": 16 << 20, "quick": 256 << 20, "full": 512 << 20}[mode]


def peak_flops(dtype, seconds: float = 0.2, rounds: int = 3) -> float:
    """FLOP/s of the active ISA's FMA loop on npfast's current threads, best of `rounds` (the
    one FMA-peak probe: src/ops/limits.cc; the scripts in bench/ use it too)."""
    return max(_npfast._measure_peak_flops(dtype, seconds) for _ in range(rounds))


def stream_bandwidth(size: int = 256 << 20, repeats: int = 5) -> float:
    """Bytes/s of the better of a streaming read and a non-temporal write over `size` bytes."""
    bw = _npfast._measure_bandwidth(size, repeats)
    return max(bw["read"], bw["write"])


def copy_bandwidth(size: int = 256 << 20, repeats: int = 5) -> float:
    """Bytes/s read plus written by a streaming copy: `size` / 2 bytes of float32 through
    npfast.convert into a preallocated output (one read stream and one non-temporal write
    stream on all npfast threads, what a one-pass filter moves). The honest roofline of such a
    filter: read and write bandwidth are not reached at the same time."""
    copy, moved = same_bytes_copy(np.ones(max(size // 8, 1024), np.float32))
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        copy()
        best = max(best, moved / (time.perf_counter() - t0))
    return best


def same_bytes_copy(x: np.ndarray):
    """(call, bytes moved): npfast.convert copying the float32 array `x` into a preallocated
    array, the copy probe's code (`copy_bandwidth`) on the bytes a one-pass filter of `x`
    moves (read once, write once)."""
    if x.dtype != np.float32 or not x.flags.c_contiguous:
        raise ValueError(f"same_bytes_copy: x must be contiguous float32, got {x.dtype}")
    dst = np.empty_like(x)
    npfast.convert(x, np.float32, out=dst)  # faults the output's pages in
    return (lambda: npfast.convert(x, np.float32, out=dst)), 2 * x.nbytes


class BandwidthNow:
    """The bandwidth limit as it stood while one case past the cache edge was timed
    (docs/decisions.md, "the bandwidth in the same rounds"): the limit `bw` scaled down by how
    a copy of the case's own bytes, timed in the same interleaved rounds (`copy_rate`: its
    fastest round, bytes read plus written per second, as the probe keeps its best), compares
    with the copy probe `copy_bw` measured beside the limit. The host's memory slows for
    minutes at a time, so a limit probed at the report's start may not be what a case timed
    later could draw. Never above the limit. Only for a case whose time follows memory's (a
    streaming exemption): a case bound by arithmetic keeps its pace while the copy slows.
    Rendered lazily, as a Limit, because `bw` and `copy_bw` rise at the report's end."""

    def __init__(self, bw, copy_bw, copy_rate: float):
        self.bw, self.copy_bw, self.copy_rate = bw, copy_bw, copy_rate

    def __float__(self) -> float:
        return float(self.bw) * min(1.0, self.copy_rate / float(self.copy_bw))

    def __bool__(self) -> bool:
        return bool(self.bw) and bool(self.copy_bw) and self.copy_rate > 0

    @property
    def slowed(self) -> float:
        """The limit over the bandwidth now (1.0: the host's memory as fast as when probed)."""
        return float(self.bw) / float(self)


def bandwidth_now(bw, copy_bw, moved: int, copy_seconds) -> "BandwidthNow | object":
    """BandwidthNow from the same-round copy's samples (seconds per call, `moved` bytes), or
    `bw` itself where a limit or the copy is missing."""
    if not (bw and copy_bw and copy_seconds):
        return bw
    return BandwidthNow(bw, copy_bw, moved / min(copy_seconds))


def measure(mode: str) -> dict:
    """The best of ROUNDS rounds of every probe."""
    secs = {"tiny": 0.02, "quick": 0.2, "full": 0.5}[mode]
    reps = {"tiny": 2, "quick": 5, "full": 10}[mode]
    size = _size(mode)
    best = {}
    for _ in range(ROUNDS[mode]):
        bw = _npfast._measure_bandwidth(size, reps)
        got = {"flops_f32": peak_flops(np.float32, secs, 1),
               "flops_f64": peak_flops(np.float64, secs, 1),
               "read": bw["read"], "write": bw["write"], "copy": copy_bandwidth(size, reps),
               "first_touch": _npfast._measure_first_touch(size)}
        for key, value in got.items():
            best[key] = max(best.get(key, 0.0), value)
    return best


def system_llc() -> int:
    """The last-level cache's size as the system reports it (0 when it does not say). In a VM
    this is often the host's whole L3, shared with other guests: see cache_edge."""
    try:
        n = os.sysconf("SC_LEVEL3_CACHE_SIZE")
        if n > 0:
            return n
    except (ValueError, OSError):
        pass
    try:
        with open("/sys/devices/system/cpu/cpu0/cache/index3/size") as f:
            s = f.read().strip()
        return int(s[:-1]) << (10 if s.endswith("K") else 20) if s[-1] in "KM" else int(s)
    except (OSError, ValueError, IndexError):
        return 0


EDGE_GAIN = 1.5  # a copy this much faster than from memory still runs from a cache


def cache_edge(mode: str) -> tuple[int, dict]:
    """The largest working set (source + destination bytes of a copy) that still copies
    EDGE_GAIN times faster than a 256 MiB copy: where data measurably leaves the last cache on
    this machine. The cliff checks use it instead of the system's LLC size, which a VM may report
    as the host's (480 MiB seen, against a measured edge of 32 MiB). Returns (edge,
    {bytes: rate}); the edge is 256 MiB when even that copy runs from a cache."""
    top = 256 << 20
    rates, size = {}, 1 << 20
    while size <= top:
        src = np.ones(size // 8, np.float32)
        dst = np.empty_like(src)
        reps = max(2 if mode == "tiny" else 3, min(50, top // size))
        best = float("inf")
        for _ in range(reps):
            t0 = time.perf_counter()
            np.copyto(dst, src)
            best = min(best, time.perf_counter() - t0)
        rates[size] = size / best
        size *= 2
    memory = rates[top]
    edge = max((s for s, r in rates.items() if r >= EDGE_GAIN * memory), default=top)
    return edge, rates


def _fmt(value: float, scale: float, unit: str) -> str:
    return f"{value / scale:.1f} {unit}" if unit == "GB/s" else f"{value / scale:.0f} {unit}"


def run(ctx, out_dir):
    start = measure(ctx.mode)
    ctx.measured = [start]
    ctx.limits.update(flops_f32=Limit(start["flops_f32"]), flops_f64=Limit(start["flops_f64"]),
                      bandwidth=Limit(max(start["read"], start["write"])),
                      copy_bandwidth=Limit(start["copy"]),
                      first_touch=Limit(start["first_touch"]))
    edge, rates = cache_edge(ctx.mode)
    ctx.limits["cache_edge"] = edge  # bytes, not a Limit: it does not rise
    sec = Section(NAME, TITLE, columns=["limit", "value", "how"])
    isa = _npfast._isa()
    mib = _size(ctx.mode) >> 20
    for key, label, scale, unit, how in PROBES:
        how = how.format(mib=mib, half=mib // 2)
        sec.rows.append([label, _fmt(start[key], scale, unit),
                         f"{isa} {how}" if key.startswith("flops") else how])
    ctx.edge_note = _edge_note(edge, rates)
    sec.note(ctx.edge_note)
    sec.note(f"Best of {ROUNDS[ctx.mode]} rounds; measured again at the end of the report, and "
             "every percentage below uses the better of the two.")
    return sec


def _edge_note(edge: int, rates: dict) -> str:
    llc = system_llc()
    said = f"{llc >> 20} MiB" if llc else "nothing"
    curve = ", ".join(f"{s >> 20} MiB {r / 1e9:.0f}" for s, r in rates.items())
    return (f"Cache edge (measured): copies of up to {edge >> 20} MiB (source + destination) "
            f"run >= {EDGE_GAIN}x faster than a {max(rates) >> 20} MiB copy; the system's LLC size says "
            f"{said}. The cliff checks treat data beyond the measured edge as out of cache. "
            f"Copy GB/s by working set, 1 thread: {curve}.")


def finish(ctx, sec: Section) -> None:
    """Measures the limits again at the report's end, raises each to the best of both, and
    rewrites the section's table (start, end, used)."""
    start = ctx.measured[0]
    end = measure(ctx.mode)
    ctx.measured.append(end)
    for key in ("flops_f32", "flops_f64", "first_touch"):
        ctx.limits[key].raise_to(end[key])
    ctx.limits["bandwidth"].raise_to(max(end["read"], end["write"]))
    ctx.limits["copy_bandwidth"].raise_to(end["copy"])
    how = {row[0]: row[-1] for row in sec.rows}
    sec.columns = ["limit", "start", "end", "used (best)", "how"]
    sec.rows = [[label, _fmt(start[key], scale, unit), _fmt(end[key], scale, unit),
                 _fmt(max(start[key], end[key]), scale, unit), how[label]]
                for key, label, scale, unit, _ in PROBES]
    stream = float(ctx.limits["bandwidth"])
    sec.notes = [
        f"Each probe: best of {ROUNDS[ctx.mode]} rounds, at the start and at the end of the "
        "report; every percentage in this report uses the better of the two ('used').",
        f"The bandwidth limit used is {stream / 1e9:.1f} GB/s (best of read and write); first "
        f"touch of fresh memory is {stream / float(ctx.limits['first_touch']):.0f}x slower than that.",
        f"Stream copy ({float(ctx.limits['copy_bandwidth']) / 1e9:.1f} GB/s, bytes read plus "
        "written) is what a one-pass filter can reach; the cliff checks time a copy of each "
        "case's own bytes in its rounds to judge a step past the cache edge against the "
        "bandwidth as it stood (docs/decisions.md).",
        ctx.edge_note,
    ]
