"""The thread pool seen from Python: fork safety, concurrent callers, thread-count invariance."""

import multiprocessing
import os
import threading

import numpy as np
import pytest

import npfast


def _child_convert(q):
    a = np.arange(4_000_000, dtype=np.uint8).reshape(2000, 2000)
    q.put(float(npfast.convert(a, np.float32, 0.5).sum(dtype=np.float64)))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_pool_works_in_forked_child(threads):
    npfast.set_num_threads(2)
    a = np.arange(4_000_000, dtype=np.uint8).reshape(2000, 2000)
    want = float(npfast.convert(a, np.float32, 0.5).sum(dtype=np.float64))  # pool now running
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child_convert, args=(q,))
    p.start()
    p.join(60)
    assert p.exitcode == 0
    assert q.get(timeout=5) == want


def test_concurrent_python_threads_match_serial(threads):
    npfast.set_num_threads(2)
    rng = np.random.default_rng(0)
    inputs = [rng.integers(0, 256, (700, 900), dtype=np.uint8) for _ in range(8)]
    want = [npfast.convert(a, np.float64, 1 / 255, 0.5) for a in inputs]
    got = [None] * len(inputs)

    def work(i):
        for _ in range(5):
            got[i] = npfast.convert(inputs[i], np.float64, 1 / 255, 0.5)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for g, w in zip(got, want):
        assert np.array_equal(g, w)


def _cases():
    """(name, op, args) for every threaded op, each big enough to split into many chunks: the call
    is op(*args)."""
    rng = np.random.default_rng(1)
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    x, w = f32(2, 16, 40, 40), f32(32, 16, 3, 3)
    g = f32(2, 32, 40, 40)
    xs, ws = f32(4, 16, 56, 56), f32(32, 16, 3, 3)
    img = f32(600, 600)
    p = f32(4, 32, 56, 56)
    pooled, idx = npfast.max_pool2d(p, 3, 2, 1, return_indices=True)
    gp = f32(*pooled.shape)
    u8 = rng.integers(0, 256, (2000, 2000), dtype=np.uint8)
    hwc = rng.integers(0, 256, (512, 512, 3), dtype=np.uint8)
    a32, b32 = f32(300, 500), f32(500, 400)
    a64, b64 = rng.standard_normal((300, 500)), rng.standard_normal((500, 400))
    w1, k3, k5, k7 = f32(32, 16, 1, 1), f32(3, 3), f32(5, 5), f32(7, 7)
    ba, bb = f32(16, 64, 64), f32(16, 64, 64)
    nhwc = f32(64, 8, 8, 64)
    # 4x4 stride 2, 32 -> 24 channels, 16 x 14 -> 32 x 28: the Winograd forward and grad_input.
    tx, tw, tgy = f32(5, 32, 16, 14), f32(32, 24, 4, 4), f32(5, 24, 32, 28)
    x1, w1s = f32(1, 64, 56, 56), f32(128, 64, 3, 3)
    stem, ws7 = f32(1, 3, 64, 64), f32(16, 3, 7, 7)
    conv = npfast.conv2d
    return [
        ("conv2d 3x3", lambda a, b: conv(a, b, padding=1), (x, w)),
        ("conv2d stride 2", lambda a, b: conv(a, b, stride=2, padding=1), (xs, ws)),
        # One image of the ResNet downsampling layer: its output rows in parts (row_split).
        ("conv2d stride 2 one image", lambda a, b: conv(a, b, stride=2, padding=1), (x1, w1s)),
        ("conv2d direct 7x7/2", lambda a, b: conv(a, b, stride=2, padding=3), (stem, ws7)),
        ("conv2d 1x1", conv, (x, w1)),
        ("conv2d_backward", lambda *a: npfast.conv2d_backward(*a, padding=1), (g, x, w)),
        ("conv_transpose2d 4x4/2",
         lambda a, b: npfast.conv_transpose2d(a, b, stride=2, padding=1), (tx, tw)),
        ("conv_transpose2d_backward 4x4/2",
         lambda *a: npfast.conv_transpose2d_backward(*a, stride=2, padding=1), (tgy, tx, tw)),
        ("correlate2d 3x3", lambda a, k: npfast.correlate2d(a, k, mode="same"), (img, k3)),
        ("correlate2d 7x7", lambda a, k: npfast.correlate2d(a, k, mode="full"), (img, k7)),
        ("ndimage.correlate", npfast.ndimage.correlate, (img, k5)),
        ("max_pool2d", lambda a: npfast.max_pool2d(a, 3, 2, 1, return_indices=True), (p,)),
        ("max_pool2d_backward", lambda a, i: npfast.max_pool2d_backward(a, i, p.shape), (gp, idx)),
        ("avg_pool2d", lambda a: npfast.avg_pool2d(a, 3, 2, 1), (p,)),
        ("avg_pool2d_backward", lambda a: npfast.avg_pool2d_backward(a, p.shape, 3, 2, 1), (gp,)),
        ("adaptive_avg_pool2d", lambda a: npfast.adaptive_avg_pool2d(a, 7), (p,)),
        ("_global_mean_nhwc", npfast._npfast._global_mean_nhwc, (nhwc,)),
        ("matmul float32", npfast.matmul, (a32, b32)),
        ("matmul float64", npfast.matmul, (a64, b64)),
        ("matmul batched", npfast.matmul, (ba, bb)),
        ("convert", lambda a: npfast.convert(a, np.float32, 1 / 255, 0.5), (u8,)),
        ("normalize",
         lambda a: npfast.normalize(a, (0.4, 0.5, 0.6), (0.2, 0.3, 0.25), to_chw=True), (hwc,)),
    ]


def _poisoned(a):
    """Another input of a's shape and dtype: NaN for floats, inverted bits for uint8, the same
    indices (they must stay valid)."""
    if np.issubdtype(a.dtype, np.floating):
        return np.full_like(a, np.nan)
    return ~a if a.dtype == np.uint8 else a


def _as_list(r):
    return [np.asarray(v) for v in r] if isinstance(r, tuple) else [np.asarray(r)]


@pytest.fixture
def oversubscribed(threads):
    """Lets calls run on up to 16 threads on any machine (the partition, not the cores, fixes
    the bits), and restores the usable-cores cap after the test."""
    npfast._npfast._set_core_cap_for_testing(16)
    try:
        yield
    finally:
        npfast._npfast._set_core_cap_for_testing(0)


@pytest.mark.parametrize("case", range(len(_cases())), ids=[c[0] for c in _cases()])
def test_bitwise_equal_for_any_thread_count(oversubscribed, case):
    """Each threaded call right after the same op on another input (NaN floats): a thread that
    reads from its pooled scratch what its own part did not write there (a missed halo row)
    reads the other input's leftovers, not a copy of this input an earlier call left."""
    name, op, args = _cases()[case]
    other = tuple(_poisoned(a) for a in args)
    npfast.set_num_threads(1)
    want = _as_list(op(*args))
    for n in (2, 3, 7, 16):
        npfast.set_num_threads(n)
        for rep in range(2):  # chunks land on different threads from call to call
            op(*other)
            got = _as_list(op(*args))
            assert len(got) == len(want)
            for gv, wv in zip(got, want):
                assert gv.dtype == wv.dtype and gv.shape == wv.shape, (name, n)
                assert np.array_equal(gv, wv, equal_nan=True), f"{name}: {n} threads differ"


def _python(code, **env):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env})


def test_daemon_threads_inside_npfast_at_exit_do_not_abort():
    """probe19e: daemon threads in npfast calls at interpreter exit aborted the process
    ("terminate called without an active exception": CPython 3.11 ended them with pthread_exit
    while they waited for the GIL, unwinding through C++). They park instead; an atexit callback
    that runs after npfast's hook may still call npfast on the main thread."""
    code = """
import atexit, threading, time
import numpy as np
def late():  # registered before npfast's hook, so it runs after it
    import npfast
    print("late", float(npfast.matmul(np.ones((3, 3)), np.ones((3, 3)))[0, 0]))
atexit.register(late)
import npfast
a = np.random.rand(200, 200).astype(np.float32)
def loop():
    while True:
        npfast.matmul(a, a); npfast.correlate2d(a, a[:3, :3]); npfast.zeros(1 << 18)
for _ in range(2):
    threading.Thread(target=loop, daemon=True).start()
time.sleep(0.3)
"""
    for _ in range(3):
        out = _python(code)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "late 3.0"


def test_bad_thread_count_variable_is_said():
    for bad in ("0", "1025", "abc", "2.5"):
        out = _python("import npfast; print(npfast.get_num_threads())", NPFAST_NUM_THREADS=bad)
        assert out.returncode == 0
        assert int(out.stdout) == npfast._npfast.usable_cores()
        assert f"ignoring NPFAST_NUM_THREADS={bad}" in out.stderr
    out = _python("import npfast; print(npfast.get_num_threads())", NPFAST_NUM_THREADS="3")
    assert int(out.stdout) == 3 and out.stderr == ""
