"""npfast.dask: lazy chunked results equal the in-memory npfast call.

Every case computes ``npfast.dask.f(dask_array)`` and compares it with ``npfast.f(numpy_array)``
(within each op's tolerance from tests/python/tolerances.py, pooling bit for bit),
on random chunkings that include chunks smaller than the halo, with the threaded scheduler and
on a real two-process ``distributed.LocalCluster``. Every kernel is the real npfast one: a
missing kernel fails the tests that use it.
"""

from __future__ import annotations

import os
import pickle
import sys
import zlib

import numpy as np
import pytest

# Every test here needs dask (requirements/test.txt installs it): without it the file skips.
dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

import npfast  # noqa: E402
import npfast.dask as nd  # noqa: E402
from tolerances import tol  # noqa: E402

# The worker processes cannot import tests/python: this module's functions (the thread probe)
# travel by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def convert_reporting_threads(a, dtype, scale=1.0, offset=0.0, *, out=None):
    """npfast.convert, returning instead of its result the npfast thread count it ran with (in
    every element): the dask layer sets that count around each task. The tests put it in place of
    npfast.convert, so it calls the compiled function by its home, npfast._npfast."""
    res = npfast._npfast.convert(a, dtype, scale, offset, out=out)
    return np.full(res.shape, npfast.get_num_threads(), dtype=np.int64)


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes; they import npfast from this process's path."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(npfast.__file__)))
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (here, before) if p)
    try:
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=":0", silence_logs=40)
    finally:
        if before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = before
    c = distributed.Client(cluster, set_as_default=False)
    yield c
    c.close()
    cluster.close()


def on_cluster(client, build):
    """Builds the graph with the client current (so tasks know the cluster's layout) and
    computes it there."""
    with client.as_current():
        arr = build()
        return client.compute(arr).result() if not isinstance(arr, tuple) else \
            tuple(f.result() for f in client.compute(list(arr)))


def threaded(arr):
    if isinstance(arr, tuple):
        return dask.compute(*arr, scheduler="threads")
    return arr.compute(scheduler="threads")


def random_chunks(rng, n, small=False):
    """A random split of n (some pieces of 1 or 2 when small)."""
    if n <= 1:
        return (n,)
    cuts = sorted(set(rng.integers(1, n, size=int(rng.integers(0, min(n - 1, 5) + 1))).tolist()))
    if small:
        cuts = sorted(set(cuts) | {1, min(n - 1, 3)})
    edges = [0] + cuts + [n]
    return tuple(b - a for a, b in zip(edges[:-1], edges[1:]))


def assert_close(got, ref, op, scale=1.0):
    """Chunked and whole results agree within the op's tolerance (tests/python/tolerances.py);
    for a filter, scale is the size of its terms (sum |k| * max |x|)."""
    assert got.shape == ref.shape and got.dtype == ref.dtype
    np.testing.assert_allclose(got, ref, **tol(op, ref.dtype, scale))


# ---------------------------------------------------------------------------------------------
# correlate2d / convolve2d


@pytest.mark.parametrize("boundary", ["fill", "wrap", "symm"])
@pytest.mark.parametrize("mode", ["same", "full", "valid"])
@pytest.mark.parametrize("name", ["correlate2d", "convolve2d"])
def test_correlation_matches_in_memory(name, mode, boundary):
    rng = np.random.default_rng(zlib.crc32(f"{name} {mode} {boundary}".encode()))
    for trial in range(3):
        h, w = int(rng.integers(8, 40)), int(rng.integers(8, 40))
        kh, kw = int(rng.integers(1, 8)), int(rng.integers(1, 8))  # even sizes centre unevenly
        dtype = np.float32 if trial % 2 == 0 else np.float64
        x = rng.standard_normal((h, w)).astype(dtype)
        k = rng.standard_normal((kh, kw)).astype(dtype)
        chunks = (random_chunks(rng, h, small=trial < 2), random_chunks(rng, w, small=trial < 2))
        ref = getattr(npfast, name)(x, k, mode, boundary, 0.75)
        lazy = getattr(nd, name)(da.from_array(x, chunks=chunks), k, mode, boundary, 0.75)
        assert lazy.shape == ref.shape
        assert_close(threaded(lazy), ref, "correlate2d", np.abs(k).sum() * max(np.abs(x).max(), 0.75))


@pytest.mark.parametrize("boundary", ["fill", "wrap", "symm"])
@pytest.mark.parametrize("name", ["correlate2d", "convolve2d"])
def test_correlation_edge_bands_of_large_blocks(name, boundary):
    """Blocks large enough that only their edge bands are recomputed from halo windows (the
    rest straight from the chunk), with uneven chunks, even and odd filters and a stack."""
    rng = np.random.default_rng(zlib.crc32(f"bands {name} {boundary}".encode()))
    for trial in range(4):
        h, w = int(rng.integers(50, 130)), int(rng.integers(50, 130))
        kh, kw = int(rng.integers(1, 10)), int(rng.integers(1, 10))
        dtype = np.float32 if trial % 2 == 0 else np.float64
        lead = (2,) if trial == 3 else ()
        x = rng.standard_normal(lead + (h, w)).astype(dtype)
        k = rng.standard_normal((kh, kw)).astype(dtype)
        cuts = lambda n: (int(rng.integers(22, n - 22)),)
        ch, cw = cuts(h)[0], cuts(w)[0]
        chunks = lead + ((ch, h - ch), (cw, w - cw))
        ref = getattr(npfast, name)(x, k, "same", boundary, 0.5)
        got = threaded(getattr(nd, name)(da.from_array(x, chunks=chunks), k, "same", boundary,
                                         0.5))
        assert_close(got, ref, "correlate2d", np.abs(k).sum() * max(np.abs(x).max(), 0.5))


@pytest.mark.parametrize("boundary", ["fill", "wrap", "symm"])
def test_correlation_filter_larger_than_image_or_chunks(boundary):
    """Halos wider than whole chunks, and axes shorter than the filter."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((11, 37)).astype(np.float32)
    for kshape in [(9, 4), (15, 20), (2, 40)]:
        k = rng.standard_normal(kshape).astype(np.float32)
        for mode in ["same", "full"]:
            ref = npfast.correlate2d(x, k, mode, boundary)
            got = threaded(nd.correlate2d(da.from_array(x, chunks=(2, 3)), k, mode, boundary))
            assert_close(got, ref, "correlate2d", np.abs(k).sum() * np.abs(x).max())


def test_correlation_stack_of_planes():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 2, 21, 26)).astype(np.float32)
    k = rng.standard_normal((4, 3)).astype(np.float32)
    for boundary in ["fill", "wrap", "symm"]:
        ref = npfast.convolve2d(x, k, "same", boundary)
        got = threaded(nd.convolve2d(da.from_array(x, chunks=(2, 1, 5, 7)), k, "same", boundary))
        assert_close(got, ref, "correlate2d", np.abs(k).sum() * np.abs(x).max())


@pytest.mark.parametrize("xdtype,kdtype,fill", [(np.uint8, np.float64, -1.0),
                                                (np.int16, np.float64, 2.5),
                                                (np.float32, np.float64, 0.1)])
def test_correlation_full_fill_value_the_input_dtype_cannot_hold(xdtype, kdtype, fill):
    """mode='full' pads with the fill value: in the result's dtype when the input's would
    change it (uint8 cannot hold -1)."""
    x = (np.arange(16 * 13) % 7).astype(xdtype).reshape(16, 13)
    k = np.random.default_rng(2).standard_normal((3, 4)).astype(kdtype)
    for chunks in [(16, 13), (5, 4)]:
        ref = npfast.correlate2d(x, k, "full", "fill", fill)
        got = threaded(nd.correlate2d(da.from_array(x, chunks=chunks), k, "full", "fill", fill))
        assert got.dtype == ref.dtype
        np.testing.assert_array_equal(got, ref)


def test_correlation_filter_is_copied_when_the_graph_is_built():
    x = np.random.default_rng(4).standard_normal((12, 12))
    k = np.ones((3, 3))
    lazy = nd.correlate2d(da.from_array(x, chunks=5), k, "same")
    ref = npfast.correlate2d(x, k, "same")
    k[:] = 5.0
    np.testing.assert_array_equal(threaded(lazy), ref)


def test_correlation_chunks_smaller_than_halo_are_merged():
    x = da.zeros((40, 40), dtype=np.float32, chunks=(2, 3))
    k = np.ones((7, 9), np.float32)
    lazy = nd.correlate2d(x, k, "same")
    assert min(lazy.chunks[0]) >= 3 and min(lazy.chunks[1]) >= 4
    np.testing.assert_array_equal(threaded(lazy), np.zeros((40, 40), np.float32))


def test_correlation_bad_arguments():
    x = da.zeros((10, 10), dtype=np.float32, chunks=5)
    k = np.ones((3, 3), np.float32)
    with pytest.raises(ValueError, match="mode"):
        nd.correlate2d(x, k, "sam")
    with pytest.raises(ValueError, match="boundary"):
        nd.correlate2d(x, k, "same", "reflect")
    with pytest.raises(ValueError, match="in2"):
        nd.correlate2d(x, np.ones(3, np.float32), "same")
    with pytest.raises(ValueError, match="in1"):
        nd.correlate2d(da.zeros(10, chunks=5), k, "same")
    with pytest.raises(ValueError, match="valid"):  # SciPy would swap the operands
        nd.correlate2d(x, np.ones((12, 12), np.float32), "valid")
    # An ndarray dask cannot wrap: its dtype named (probe24e: "expected a NumPy array, got ndarray").
    with pytest.raises(TypeError, match="in1: .* of dtype object"):
        nd.correlate2d(np.empty((10, 10), object), k, "same")


def test_correlation_on_cluster(client):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((30, 41)).astype(np.float32)
    k = rng.standard_normal((6, 5)).astype(np.float32)
    # Few blocks: each distributed task costs milliseconds on a loaded 2-core machine. The
    # width chunks (2) are smaller than the halo and get merged.
    xd = da.from_array(x, chunks=(13, (2, 2, 17, 20)))
    for name, mode, boundary in [("correlate2d", "same", "wrap"), ("convolve2d", "same", "symm"),
                                 ("correlate2d", "full", "fill"), ("convolve2d", "valid", "fill")]:
        ref = getattr(npfast, name)(x, k, mode, boundary, -1.0)
        got = on_cluster(client, lambda: getattr(nd, name)(xd, k, mode, boundary, -1.0))
        assert_close(got, ref, "correlate2d", np.abs(k).sum() * np.abs(x).max())


# ---------------------------------------------------------------------------------------------
# pooling


def random_pool_args(rng, k_max=4):
    k = tuple(int(v) for v in rng.integers(1, k_max + 1, 2))
    s = tuple(int(v) for v in rng.integers(1, 4, 2))
    p = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
    return k, s, p, bool(rng.integers(2))


def random_chunking(rng, shape):
    return tuple(random_chunks(rng, n, small=bool(rng.integers(2))) for n in shape)


def test_max_pool2d_matches_bit_for_bit():
    rng = np.random.default_rng(21)
    x = rng.standard_normal((2, 3, 19, 23)).astype(np.float32)
    for _ in range(24):
        k, s, p, ceil_mode = random_pool_args(rng)
        d = tuple(int(v) for v in rng.integers(1, 3, 2))
        if any(dd * (kk - 1) + 1 > n + 2 * pp for dd, kk, n, pp in zip(d, k, (19, 23), p)):
            continue
        ri = bool(rng.integers(2))
        xd = da.from_array(x, chunks=random_chunking(rng, x.shape))
        ref = npfast.max_pool2d(x, k, s, p, d, ceil_mode, ri)
        got = threaded(nd.max_pool2d(xd, k, s, p, d, ceil_mode, ri))
        for r, g in zip(ref if ri else (ref,), got if ri else (got,)):
            assert g.shape == r.shape and g.dtype == r.dtype, (k, s, p, d, ceil_mode)
            np.testing.assert_array_equal(g, r, err_msg=str((k, s, p, d, ceil_mode, xd.chunks)))


def test_avg_pool2d_matches_bit_for_bit():
    rng = np.random.default_rng(22)
    x = rng.standard_normal((2, 2, 17, 20)).astype(np.float32)
    for _ in range(24):
        k, s, p, ceil_mode = random_pool_args(rng)
        cip = bool(rng.integers(2))
        div = [None, None, 5][int(rng.integers(3))]
        xd = da.from_array(x, chunks=random_chunking(rng, x.shape))
        ref = npfast.avg_pool2d(x, k, s, p, ceil_mode, cip, div)
        got = threaded(nd.avg_pool2d(xd, k, s, p, ceil_mode, cip, div))
        assert got.shape == ref.shape and got.dtype == ref.dtype
        np.testing.assert_array_equal(got, ref, err_msg=str((k, s, p, ceil_mode, cip, div,
                                                             xd.chunks)))


@pytest.mark.parametrize("shape", [(13, 18), (3, 13, 18)])
def test_pooling_unbatched_inputs(shape):
    rng = np.random.default_rng(23)
    x = rng.standard_normal(shape).astype(np.float64)
    xd = da.from_array(x, chunks=(2,) * (len(shape) - 2) + (4, 5))
    np.testing.assert_array_equal(threaded(nd.max_pool2d(xd, 3, 2, 1, ceil_mode=True)),
                                  npfast.max_pool2d(x, 3, 2, 1, ceil_mode=True))
    np.testing.assert_array_equal(threaded(nd.avg_pool2d(xd, (2, 3), (3, 2), 1, True, False)),
                                  npfast.avg_pool2d(x, (2, 3), (3, 2), 1, True, False))


def test_pooling_stride_defaults_to_kernel():
    x = np.arange(2 * 12 * 12, dtype=np.float32).reshape(2, 12, 12)
    xd = da.from_array(x, chunks=(1, 5, 7))
    np.testing.assert_array_equal(threaded(nd.max_pool2d(xd, 3)), npfast.max_pool2d(x, 3))


def test_pooling_flags_are_checked():
    # As the in-memory calls: a flag is True / False (or a NumPy bool), never a truthy value.
    xd = da.zeros((1, 1, 6, 6), chunks=3)
    with pytest.raises(TypeError, match="ceil_mode"):
        nd.max_pool2d(xd, 2, ceil_mode="no")
    with pytest.raises(TypeError, match="return_indices"):
        nd.max_pool2d(xd, 2, return_indices=1)
    with pytest.raises(TypeError, match="count_include_pad"):
        nd.avg_pool2d(xd, 2, count_include_pad=None)


def test_pooling_on_cluster(client):
    rng = np.random.default_rng(24)
    x = rng.standard_normal((3, 2, 30, 27)).astype(np.float32)
    xd = da.from_array(x, chunks=(2, 2, (1, 14, 15), 13))
    ref = npfast.max_pool2d(x, 3, 2, 1, 1, True, True)
    got = on_cluster(client, lambda: nd.max_pool2d(xd, 3, 2, 1, 1, True, True))
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[1], ref[1])
    ref = npfast.avg_pool2d(x, (3, 2), (2, 3), (1, 1), True, False)
    got = on_cluster(client, lambda: nd.avg_pool2d(xd, (3, 2), (2, 3), (1, 1), True, False))
    np.testing.assert_array_equal(got, ref)


# ---------------------------------------------------------------------------------------------
# conv2d


def test_conv2d_matches_in_memory():
    rng = np.random.default_rng(31)
    x = rng.standard_normal((3, 4, 15, 18)).astype(np.float32)
    for trial in range(18):
        groups = [1, 2, 4][trial % 3]
        o = groups * int(rng.integers(1, 3))
        k = tuple(int(v) for v in rng.integers(1, 5, 2))
        w = rng.standard_normal((o, 4 // groups) + k).astype(np.float32)
        b = rng.standard_normal(o).astype(np.float32) if trial % 2 else None
        s = tuple(int(v) for v in rng.integers(1, 4, 2))
        p = tuple(int(v) for v in rng.integers(0, 6, 2))  # padding may exceed the kernel
        d = tuple(int(v) for v in rng.integers(1, 3, 2))
        if any(dd * (kk - 1) + 1 > n + 2 * pp for dd, kk, n, pp in zip(d, k, (15, 18), p)):
            continue
        xd = da.from_array(x, chunks=random_chunking(rng, x.shape))
        ref = npfast.conv2d(x, w, b, s, p, d, groups)
        got = threaded(nd.conv2d(xd, w, b, s, p, d, groups))
        assert_close(got, ref, "conv2d")


def test_conv2d_channels_chunked_on_group_boundaries():
    rng = np.random.default_rng(32)
    x = rng.standard_normal((2, 6, 9, 9)).astype(np.float32)
    w = rng.standard_normal((9, 2, 3, 3)).astype(np.float32)
    lazy = nd.conv2d(da.from_array(x, chunks=(1, 1, 4, 4)), w, None, 1, 1, 1, 3)
    assert lazy.chunks[1] == (3, 3, 3)  # each input chunk of channels became one group
    assert_close(threaded(lazy), npfast.conv2d(x, w, None, 1, 1, 1, 3), "conv2d")
    # groups=1 needs every channel in one chunk
    w1 = rng.standard_normal((5, 6, 3, 3)).astype(np.float32)
    lazy = nd.conv2d(da.from_array(x, chunks=(1, 1, 4, 4)), w1, None, 1, "same")
    assert lazy.chunks[1] == (5,)
    assert_close(threaded(lazy), npfast.conv2d(x, w1, None, 1, 1), "conv2d")


def test_conv2d_bad_arguments():
    x = da.zeros((1, 4, 8, 8), dtype=np.float32, chunks=4)
    with pytest.raises(ValueError, match="groups"):
        nd.conv2d(x, np.ones((3, 2, 3, 3), np.float32), groups=2)
    with pytest.raises(ValueError, match="same"):
        nd.conv2d(x, np.ones((3, 4, 2, 2), np.float32), padding="same")
    with pytest.raises(ValueError, match=r"input: expected a 4-d .* got shape \(4, 4\)"):
        nd.conv2d(da.zeros((4, 4), dtype=np.float32, chunks=2), np.ones((3, 4, 3, 3), np.float32))
    with pytest.raises(ValueError, match="kernel"):
        nd.conv2d(x, np.ones((3, 4, 9, 9), np.float32))


def test_conv2d_on_cluster(client):
    rng = np.random.default_rng(33)
    x = rng.standard_normal((2, 4, 20, 17)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    xd = da.from_array(x, chunks=(1, 4, (2, 9, 9), 9))
    ref = npfast.conv2d(x, w, b, 2, 1, 1, 2)
    got = on_cluster(client, lambda: nd.conv2d(xd, w, b, 2, 1, 1, 2))
    assert_close(got, ref, "conv2d")


# ---------------------------------------------------------------------------------------------
# convert (the real kernel) and how kernels travel


def test_convert_matches_in_memory(client):
    rng = np.random.default_rng(41)
    a = rng.integers(0, 256, (37, 29), dtype=np.uint8)
    ad = da.from_array(a, chunks=(19, 15))
    ref = npfast.convert(a, np.float32, 1 / 255, -0.5)
    np.testing.assert_array_equal(threaded(nd.convert(ad, np.float32, 1 / 255, -0.5)), ref)
    got = on_cluster(client, lambda: nd.convert(ad, np.float32, 1 / 255, -0.5))
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(nd.convert(ad, np.float64).compute(scheduler="processes"),
                                  npfast.convert(a, np.float64))


def test_compiled_kernel_travels_by_name():
    k = pickle.loads(pickle.dumps(nd._Kernel("convert")))
    assert k.fn is npfast.convert


def test_missing_kernel_is_reported(monkeypatch):
    monkeypatch.delattr(npfast, "max_pool2d", raising=False)
    with pytest.raises(NotImplementedError, match="max_pool2d"):
        nd.max_pool2d(da.zeros((4, 4), chunks=2), 2)


def test_kernel_errors_surface_when_the_graph_is_built():
    with pytest.raises((TypeError, ValueError)):
        nd.convert(da.zeros((4, 4), chunks=2), "not a dtype")


# ---------------------------------------------------------------------------------------------
# npfast threads inside tasks


def test_worker_threads_are_a_share_of_the_cores(client, monkeypatch):
    monkeypatch.setattr(npfast, "convert", convert_reporting_threads)
    a = da.zeros((4, 4), dtype=np.uint8, chunks=2)
    cores = client.run(lambda: npfast._npfast.usable_cores())
    share = max(1, min(cores.values()) // 2)  # two one-thread workers on this host
    assert set(np.unique(on_cluster(client, lambda: nd.convert(a, np.float32)))) == {share}
    got = on_cluster(client, lambda: nd.convert(a, np.float32, threads=3))
    assert set(np.unique(got)) == {3}


def test_threaded_scheduler_shares_and_restores(monkeypatch, threads):
    monkeypatch.setattr(npfast, "convert", convert_reporting_threads)
    npfast.set_num_threads(7)
    a = da.zeros((4, 4), dtype=np.uint8, chunks=2)
    cores = npfast._npfast.usable_cores()
    with dask.config.set(num_workers=2):
        got = nd.convert(a, np.float32).compute(scheduler="threads")
    assert set(np.unique(got)) == {max(1, cores // 2)}
    assert npfast.get_num_threads() == 7  # restored after the last task
    # synchronous scheduler: one task at a time, the caller's setting
    assert set(np.unique(nd.convert(a, np.float32).compute(scheduler="sync"))) == {7}
    monkeypatch.setenv(nd.ENV_THREADS, "5")
    got = nd.convert(a, np.float32).compute(scheduler="threads")
    assert set(np.unique(got)) == {5}
    got = nd.convert(a, np.float32, threads=2).compute(scheduler="threads")
    assert set(np.unique(got)) == {2}


def test_processes_scheduler_shares(monkeypatch):
    monkeypatch.setattr(npfast, "convert", convert_reporting_threads)
    a = da.zeros((4, 4), dtype=np.uint8, chunks=2)
    with dask.config.set(num_workers=2):
        got = nd.convert(a, np.float32).compute(scheduler="processes")
    assert set(np.unique(got)) == {max(1, npfast._npfast.usable_cores() // 2)}


def test_bad_threads_argument():
    a = da.zeros((4, 4), dtype=np.uint8, chunks=2)
    with pytest.raises(TypeError, match="threads"):
        nd.convert(a, np.float32, threads=1.5)
    with pytest.raises(ValueError, match="threads"):
        nd.convert(a, np.float32, threads=0)


def test_unknown_chunk_sizes_are_refused():
    x = da.zeros((10, 10), dtype=np.float32, chunks=5)
    x = x[x[:, 0] == 0]  # boolean indexing: row count unknown until computed
    with pytest.raises(ValueError, match="unknown"):
        nd.max_pool2d(x, 2)


def test_numpy_input_is_one_chunk():
    x = np.arange(64, dtype=np.float32).reshape(8, 8)
    lazy = nd.avg_pool2d(x, 2)
    assert isinstance(lazy, da.Array)
    np.testing.assert_array_equal(lazy.compute(scheduler="sync"), npfast.avg_pool2d(x, 2))


def test_conv2d_without_input_channels():
    """probe18c: C = 0 divided by C / groups when rounding channel chunks; npfast.conv2d's
    answer is the bias alone."""
    x = np.zeros((5, 0, 8, 8))
    w, b = np.zeros((4, 0, 3, 3)), np.arange(4.0)
    got = nd.conv2d(da.from_array(x, chunks=(2, 0, 4, 4)), w, b)
    np.testing.assert_array_equal(got.compute(), npfast.conv2d(x, w, b))
    assert got.chunks[0] == (2, 2, 1)
    assert nd.conv2d(np.zeros((0, 8, 8)), w, None, padding=1).compute().shape == (4, 8, 8)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.uint8, np.int16, bool])
@pytest.mark.parametrize("fill", [np.array([2.5]), [2.5], (-1,), np.array([[0.1]]),
                                  np.array([np.nan]), np.array([True]), None])
def test_full_fill_takes_what_the_in_memory_call_takes(dtype, fill):
    """probe20d: mode 'full' padded with da.pad, which refused a one-element array or sequence
    as the fill value, and None (NaN) beside an integer image; in memory both work."""
    x = (np.arange(20).reshape(4, 5) % 7).astype(dtype)
    k = np.array([[1.0, -2.0], [0.5, 3.0]], np.float32 if dtype == np.float32 else np.float64)
    with dask.config.set(scheduler="synchronous"):
        for f in ("correlate2d", "convolve2d"):
            want = getattr(npfast, f)(x, k, "full", "fill", fill)
            got = getattr(nd, f)(da.from_array(x, chunks=2), k, "full", "fill", fill).compute()
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name, args, kw", [
    ("max_pool2d", (0,), {}), ("max_pool2d", (2,), {"ceil_mode": 1}),
    ("max_pool2d", (6,), {}), ("max_pool2d", (2.0,), {}),
    ("avg_pool2d", (2,), {"padding": -1}), ("avg_pool2d", (2,), {"count_include_pad": "x"}),
    ("conv2d", (np.ones((2, 3, 3, 3)),), {"stride": 0}),
    ("conv2d", (np.ones((2, 3, 7, 3)),), {}), ("conv2d", (np.ones((2, 4, 3, 3)),), {}),
    ("conv2d", (np.ones((2, 3, 3, 3)),), {"groups": 2}),
])
@pytest.mark.parametrize("shape", [(2, 3, 5, 6), (5,), (4, 4), (2, 2, 3, 5, 6)])
def test_window_errors_are_the_in_memory_calls(name, args, kw, shape):
    """probe20d: the graph's own checks raised plain ValueError / TypeError where the in-memory
    call raises npfast.AnchorValueError / AnchorTypeError (also RuntimeErrors, as torch's), and
    other messages; now the in-memory call checks the arguments, on an input without data (or,
    for a rank it refuses, of the input's own shape: review20)."""
    x = np.random.default_rng(1).random(shape)
    with pytest.raises(Exception) as want:
        getattr(npfast, name)(x, *args, **kw)
    with pytest.raises(type(want.value)) as got:
        getattr(nd, name)(da.from_array(x, chunks=2), *args, **kw)
    assert str(got.value) == str(want.value) and isinstance(got.value, RuntimeError)
