"""npfast.numba: Numba-compiled code allocating from npfast's pool (issue 21)."""

import gc
import os
import threading

import numba
import numpy as np
import pytest

import npfast
import npfast.memory as mem
import npfast.numba as npnumba
from npfast import _npfast


@pytest.fixture(autouse=True)
def _restore():
    yield
    npnumba.uninstall()


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@numba.njit(nogil=True)
def make_zeros(n):
    mat = np.zeros((n, n), dtype=np.double)
    mat += 1.0
    return mat.reshape((n ** 2))


@numba.njit(nogil=True)
def alloc_loop(n, iters):
    # zeros, ones, empty and an expression temporary, each freed in the loop
    s = 0.0
    for i in range(iters):
        a = np.zeros(n)
        b = np.ones((n, 2))
        c = np.empty(n + i % 7)
        c[:] = 2.0
        s += (a + b[:, 0] * c[:n]).sum()
    return s


def test_install_flag_and_context_manager():
    assert not npnumba.is_installed()
    npnumba.install()
    npnumba.install()  # twice is harmless
    assert npnumba.is_installed()
    npnumba.uninstall()
    assert not npnumba.is_installed()
    with npnumba.installed():
        assert npnumba.is_installed()
        with npnumba.installed():
            assert npnumba.is_installed()
        assert npnumba.is_installed()
    assert not npnumba.is_installed()


def test_arrays_from_compiled_code_come_from_the_pool():
    make_zeros(8)  # compile
    npnumba.install()
    before = mem.stats()["bytes_in_use"]
    x = make_zeros(512)
    assert mem.stats()["bytes_in_use"] - before >= 512 * 512 * 8
    np.testing.assert_array_equal(x, np.ones(512 * 512))
    del x
    assert mem.stats()["bytes_in_use"] - before < 512 * 512 * 8
    npnumba.uninstall()
    before = mem.stats()["bytes_in_use"]
    y = make_zeros(512)
    assert mem.stats()["bytes_in_use"] - before < 512 * 512 * 8  # Numba's own malloc again
    del y


def test_rss_flat_over_many_iterations():
    npnumba.install()
    assert alloc_loop(100, 10) == 10 * 100 * 2.0
    for _ in range(1000):  # warm the pool and the C heap
        make_zeros(200)
    alloc_loop(300, 1000)
    gc.collect()
    start = rss_bytes()
    for _ in range(10_000):
        make_zeros(200)  # 320 KB: a big (mapped) pool block
    assert alloc_loop(300, 10_000) == 10_000 * 300 * 2.0
    gc.collect()
    grown = rss_bytes() - start
    assert grown < 16 << 20, f"RSS grew by {grown >> 20} MiB over 10^4 iterations"


def test_blocks_cross_install_both_ways():
    make_zeros(4)
    before_install = [make_zeros(n) for n in (3, 64, 300)]  # CPython raw malloc blocks
    lst = numba.typed.List([1.0, 2.0])
    npnumba.install()
    during = [make_zeros(n) for n in (3, 64, 300)]  # pool blocks
    in_use = mem.stats()["bytes_in_use"]
    del before_install  # freed by npfast's free, which hands them back to CPython
    for _ in range(1000):
        lst.append(3.0)  # a list allocated before install() grows (realloc) under it
    npnumba.uninstall()
    grown_list = numba.typed.List([0.0])
    npnumba.install()
    for _ in range(1000):
        grown_list.append(1.0)  # and one allocated after
    npnumba.uninstall()
    for a, n in zip(during, (3, 64, 300)):
        np.testing.assert_array_equal(a, np.ones(n * n))
    del during  # pool blocks freed after uninstall() go back to the pool
    assert mem.stats()["bytes_in_use"] < in_use
    assert len(lst) == 1002 and sum(lst) == 3003.0
    assert len(grown_list) == 1001 and sum(grown_list) == 1000.0
    del lst, grown_list


def test_threads_started_before_and_inside_install():
    make_zeros(4)
    alloc_loop(10, 1)
    errors = []

    def worker(stop):
        try:
            while not stop.is_set():
                if alloc_loop(50, 50) != 50 * 50 * 2.0:
                    errors.append("wrong sum")
                if make_zeros(100)[0] != 1.0:
                    errors.append("wrong value")
        except Exception as e:  # reported by the assert below
            errors.append(repr(e))

    stop_outside = threading.Event()
    outside = [threading.Thread(target=worker, args=(stop_outside,)) for _ in range(2)]
    for t in outside:
        t.start()
    kept = []  # arrays allocated on both sides of install(), freed at the end
    for _ in range(20):
        npnumba.install()
        stop_inside = threading.Event()
        inside = threading.Thread(target=worker, args=(stop_inside,))
        inside.start()
        kept.append(make_zeros(64))
        npnumba.uninstall()
        kept.append(make_zeros(64))
        stop_inside.set()
        inside.join()
    stop_outside.set()
    for t in outside:
        t.join()
    assert not errors, errors
    for a in kept:
        np.testing.assert_array_equal(a, np.ones(64 * 64))


@numba.njit(parallel=True)
def parallel_alloc(n, iters):
    out = np.zeros(iters)
    for i in numba.prange(iters):
        a = np.zeros((n + i % 5, 3))
        b = np.empty(n * 50 + i % 3)  # big enough to leave the per-thread caches
        b[:] = 1.0
        c = npfast.zeros((n, 2))  # the external allocator, from the workers too
        out[i] = a.sum() + b[:n].sum() + c.sum()
    return out


def test_parallel_prange_allocation_stress():
    npnumba.install()
    for _ in range(20):
        out = parallel_alloc(200, 2000)
        np.testing.assert_array_equal(out, np.full(2000, 200.0))
    npnumba.uninstall()
    np.testing.assert_array_equal(parallel_alloc(200, 500), np.full(500, 200.0))


# ---- npfast.zeros / npfast.empty inside @njit ------------------------------------------------


@numba.njit
def nj_zeros(shape):
    return npfast.zeros(shape)


@numba.njit
def nj_zeros_f32(shape):
    return npfast.zeros(shape, np.float32)


@numba.njit
def nj_zeros_dt(shape, dt):
    return npfast.zeros(shape, dt)


@numba.njit
def nj_empty(shape):
    return npfast.empty(shape, np.int16)


@pytest.mark.parametrize("shape", [0, 1, 7, (0,), (3, 5), (4000, 3), (2, 3, 4), (1, 0, 2), ()])
def test_njit_zeros_matches_numpy(shape):
    for fn, dtype in [(nj_zeros, np.float64), (nj_zeros_f32, np.float32)]:
        got = fn(shape)
        want = np.zeros(shape, dtype)
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.flags.c_contiguous and got.flags.writeable
        np.testing.assert_array_equal(got, want)
        got[...] = 1  # writeable, and the pool block is freed cleanly afterwards


# Every dtype the Python-level functions take.
@pytest.mark.parametrize("dtype", ["?", "u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8", "f4", "f8",
                                   "c8", "c16"])
def test_njit_zeros_dtypes(dtype):
    got = nj_zeros_dt((3, 4), np.dtype(dtype))
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, np.zeros((3, 4), dtype))
    assert npfast.zeros((3, 4), dtype).dtype == got.dtype


def test_njit_dtype_as_a_string():
    # A string literal, as np.zeros(n, 'f4') takes inside @njit.
    @numba.njit
    def zeros_f4(n):
        return npfast.zeros(n, "f4")

    @numba.njit
    def empty_i2(n):
        return npfast.empty((n, 2), "int16")

    assert zeros_f4(3).dtype == np.float32
    np.testing.assert_array_equal(zeros_f4(3), np.zeros(3, np.float32))
    assert empty_i2(3).dtype == np.int16 and empty_i2(3).shape == (3, 2)


def test_njit_unsupported_dtype_is_typing_error():
    with pytest.raises(numba.core.errors.TypingError, match="unsupported dtype float16"):
        nj_zeros_dt((3, 4), np.dtype("f2"))


def test_njit_order_c_only():
    @numba.njit
    def c_order(n):
        return npfast.zeros((n, 2), np.float64, "C")

    assert c_order(3).flags.c_contiguous and c_order(3).shape == (3, 2)

    @numba.njit
    def f_order(n):
        return npfast.zeros((n, 2), np.float64, "F")

    with pytest.raises(numba.core.errors.TypingError, match="order='C'"):
        f_order(3)


def test_njit_zeros_reused_block_is_cleared():
    big = (1200, 1000)  # ~9.6 MB, a warm mapped block after the first round
    for _ in range(3):
        a = nj_zeros(big)
        np.testing.assert_array_equal(a, 0.0)
        a[...] = 7.0
        del a
    small = nj_zeros((50,))
    small[:] = 3
    del small
    np.testing.assert_array_equal(nj_zeros((50,)), 0.0)


def test_njit_zeros_from_pool_and_aligned():
    before = mem.stats()["bytes_in_use"]
    a = nj_zeros((1000, 1000))
    assert mem.stats()["bytes_in_use"] - before >= 8_000_000
    assert a.ctypes.data % 64 == 0
    del a
    assert mem.stats()["bytes_in_use"] - before < 8_000_000


def test_njit_empty():
    e = nj_empty((5, 6))
    assert e.dtype == np.int16 and e.shape == (5, 6) and e.flags.c_contiguous
    e[...] = 3
    assert e.sum() == 90


def test_njit_zeros_errors():
    with pytest.raises(ValueError, match="negative"):
        nj_zeros((3, -1))
    with pytest.raises(numba.core.errors.TypingError):
        nj_zeros_dt(3, np.float16)
    with pytest.raises(numba.core.errors.TypingError):
        nj_zeros(2.5)


def test_njit_zeros_array_outlives_install_state():
    npnumba.install()
    a = nj_zeros(1000)
    npnumba.uninstall()
    b = nj_zeros(1000)
    del a, b  # both through the external allocator, whatever is installed


def test_nrt_owns_rejects_foreign_blocks():
    assert not _npfast._nrt_owns(np.zeros(4).ctypes.data)


def test_crossing_under_cpython_debug_allocator():
    # PYTHONMALLOC=debug puts a header before every raw block and aborts on a free of a block
    # it did not make: npfast's NRT free must tell the two kinds apart.
    import subprocess
    import sys

    code = """
import numba, numpy as np, npfast.numba as nn
@numba.njit
def f(n):
    a = np.zeros((n, n)); a += 1.0
    return a
before = [f(k) for k in (2, 40, 300)]
nn.install()
during = [f(k) for k in (2, 40, 300)]
del before
nn.uninstall()
del during
print("ok")
"""
    env = dict(os.environ, PYTHONMALLOC="debug")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]


@numba.njit
def zeros_then_fill(n, v):
    a = np.zeros((n, n))
    ok = (a == 0.0).all()
    a[:] = v
    return ok, a


@pytest.mark.parametrize("n", [1, 3, 100, 1001, 1501, 2100])
def test_big_zeros_cleared_under_install(n):
    # npfast's memset takes every zero fill under install(), each of zero_fill's ways: one
    # piece (8 B-80 KB), from the end back (8 MB), split across threads (1501^2 float64, 18 MB),
    # from 32 MiB plain or streaming stores across threads (2100^2, 35 MB); the C library's
    # memset again after uninstall()
    fills = npfast._npfast._zero_fill_calls
    npnumba.install()
    before = fills()
    for _ in range(3):
        ok, a = zeros_then_fill(n, 5.0)  # reused warm and dirty from the last round
        assert ok and a[0, 0] == 5.0 and a[-1, -1] == 5.0
        del a
    ok, a = zeros_then_fill(10, 1.0)
    assert ok
    assert fills() >= before + 4
    npnumba.uninstall()
    before = fills()
    ok, a = zeros_then_fill(n, 2.0)
    assert ok
    assert fills() == before


def test_njit_zeros_in_cached_functions(tmp_path):
    # cache=True: the compiled code is loaded by a later process, so it must find npfast's
    # allocation functions by name, not by an address baked in by the first process.
    import subprocess
    import sys

    (tmp_path / "cached_mod.py").write_text(
        "import numba, numpy as np, npfast, npfast.numba\n"
        "@numba.njit(cache=True)\n"
        "def f(n):\n"
        "    a = npfast.zeros((n, 3)); a += np.zeros(3)\n"
        "    return a\n")
    code = "import cached_mod; a = cached_mod.f(5); assert a.shape == (5, 3) and not a.any(); " \
           "print(sum(cached_mod.f.stats.cache_hits.values()))"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path)] + sys.path))
    runs = [subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=300) for _ in range(2)]
    for p in runs:
        assert p.returncode == 0, p.stderr[-2000:]
    hits = [int(p.stdout.split()[-1]) for p in runs]
    assert hits[0] == 0 and hits[1] >= 1, hits  # the second process loaded the cached code
