"""npfast.correlate2d / convolve2d against scipy.signal on every ISA path."""

import os

import numpy as np
import pytest
import scipy.signal as ss
from numpy.lib.stride_tricks import as_strided

import npfast
from npfast import ndimage
from tolerances import filter_scale, tol

MODES = ["full", "same", "valid"]
BOUNDARIES = ["fill", "wrap", "symm"]
OPS = [(npfast.correlate2d, ss.correlate2d), (npfast.convolve2d, ss.convolve2d)]


def close(got, want, x, k):
    """float32 results carry float32 rounding; the bound scales with sum |k| * max |x|."""
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, **tol("correlate2d", got.dtype, filter_scale(x, k)))


def scipy_ref(fn, x, k, **kw):
    try:
        return fn(np.asarray(x, np.float64), np.asarray(k, np.float64), **kw)
    except ValueError:
        return None


KSHAPES = [(1, 1), (1, 4), (5, 1), (2, 2), (3, 3), (4, 3), (5, 5), (6, 6), (7, 7), (3, 8)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_random_shapes_every_mode(isa, dtype):
    rng = np.random.default_rng(0)
    for trial, (kh, kw) in enumerate(KSHAPES * 2):
        H, W = rng.integers(1, 30, 2)
        if trial >= len(KSHAPES):  # second round: kernel larger than the image
            H, W = rng.integers(1, 5, 2)
        x = rng.standard_normal((H, W)).astype(dtype)
        k = rng.standard_normal((kh, kw)).astype(dtype)
        for ours, theirs in OPS:
            for mode in MODES:
                for boundary in BOUNDARIES:
                    want = scipy_ref(theirs, x, k, mode=mode, boundary=boundary, fillvalue=0.75)
                    if want is None:
                        with pytest.raises(ValueError, match="valid"):
                            ours(x, k, mode=mode, boundary=boundary, fillvalue=0.75)
                        continue
                    got = ours(x, k, mode, boundary, 0.75)
                    assert got.dtype == dtype
                    close(got, want, x, k)


def test_wide_images_cross_every_block_width(isa):
    # Columns around the vector and block widths, rows around the row block.
    rng = np.random.default_rng(1)
    for W in [7, 8, 9, 23, 24, 25, 47, 48, 49, 97, 131, 155, 200]:
        for H in [1, 3, 4, 5, 9]:
            x = rng.standard_normal((H, W)).astype(np.float32)
            k = rng.standard_normal((3, 3)).astype(np.float32)
            close(npfast.correlate2d(x, k, "same", "symm"),
                  ss.correlate2d(x.astype(float), k.astype(float), "same", "symm"), x, k)


def test_kernel_larger_than_image_in_valid_mode_swaps(isa):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4))
    k = rng.standard_normal((6, 7))
    for ours, theirs in OPS:
        close(ours(x, k, "valid"), theirs(x, k, "valid"), x, k)
        stack = rng.standard_normal((2, 3, 4))
        got = ours(stack, k, "valid")
        for p in range(2):
            close(got[p], theirs(stack[p], k, "valid"), stack, k)


def test_stacks_apply_the_kernel_to_every_plane(isa):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 17, 20)).astype(np.float32)
    k = rng.standard_normal((4, 3)).astype(np.float32)
    for ours, theirs in OPS:
        got = ours(x, k, "same", "wrap")
        assert got.shape == x.shape
        for i in range(2):
            for j in range(3):
                close(got[i, j], theirs(x[i, j].astype(float), k.astype(float), "same", "wrap"), x, k)


def test_views_any_strides(isa):
    rng = np.random.default_rng(4)
    base = rng.standard_normal((40, 150)).astype(np.float32)
    k = rng.standard_normal((3, 5)).astype(np.float32)
    views = [base.T, base[::-1], base[:, ::-1], base[::3, ::-2], np.asfortranarray(base),
             base[5:9, 7:30], base[2:30, 1:], base.reshape(10, 4, 150)[:, 1, :]]
    for v in views:
        for mode in MODES:
            close(npfast.correlate2d(v, k, mode, "symm"),
                  ss.correlate2d(v.astype(float), k.astype(float), mode, "symm"), v, k)
    kv = rng.standard_normal((6, 8))[::2, ::-3]  # a strided, reversed kernel
    close(npfast.convolve2d(base, kv, "same"), ss.convolve2d(base.astype(float), kv, "same"), base, kv)


def test_misaligned_and_zero_stride_inputs(isa):
    rng = np.random.default_rng(10)
    vals = rng.standard_normal(50 * 60).astype(np.float32)
    raw = bytearray(vals.nbytes + 1)
    x = np.frombuffer(raw, np.float32, count=vals.size, offset=1).reshape(50, 60)  # unaligned
    x[...] = vals.reshape(50, 60)
    k = rng.standard_normal((3, 3)).astype(np.float32)
    close(npfast.correlate2d(x, k, "same", "wrap"), ss.correlate2d(x.astype(float), k.astype(float), "same", "wrap"), x, k)
    z = as_strided(np.float32(2.5).reshape(1), shape=(9, 70), strides=(0, 0))
    close(npfast.convolve2d(z, k, "full", "symm"), ss.convolve2d(np.full((9, 70), 2.5), k.astype(float), "full", "symm"), z, k)


def test_dtypes():
    rng = np.random.default_rng(5)
    x32 = rng.standard_normal((9, 11)).astype(np.float32)
    k64 = rng.standard_normal((3, 3))
    got = npfast.correlate2d(x32, k64, "same")
    assert got.dtype == np.float64  # mixed float32/float64
    close(got, ss.correlate2d(x32.astype(float), k64, "same"), x32, k64)
    for t in [np.uint8, np.int8, np.uint16, np.int16, np.int32, np.int64]:
        xi = rng.integers(0, 100, (9, 11)).astype(t)
        ki = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=t)
        got = npfast.convolve2d(xi, ki, "full", "wrap")
        assert got.dtype == np.float64  # SciPy returns the integer dtype
        np.testing.assert_array_equal(got, ss.convolve2d(xi.astype(np.int64), ki.astype(np.int64),
                                                         "full", "wrap"))
    assert npfast.correlate2d([[1, 2], [3, 4]], [[1]]).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    # An integer of at most 16 bits (or bool) beside float32: SciPy's float32, computed in
    # float32 (probe17: it was float64). int32 beside float32 stays float64, NumPy's promotion
    # (SciPy's own result there depends on the operands' order).
    k32 = rng.standard_normal((3, 4)).astype(np.float32)
    for t in [np.uint8, np.int8, np.uint16, np.int16, np.bool_]:
        xi = rng.integers(0, 100, (12, 9)).astype(t)
        for mode, boundary in (("same", "fill"), ("full", "wrap"), ("valid", "symm")):
            for a, b in ((xi, k32), (k32, xi)):
                got = npfast.correlate2d(a, b, mode, boundary)
                want = ss.correlate2d(a, b, mode, boundary)
                assert got.dtype == want.dtype == np.result_type(a.dtype, np.float32), (t, mode)
                close(got, want, a.astype(float), b.astype(float))
        out = np.empty((12, 9), np.result_type(t, np.float32))
        assert npfast.convolve2d(xi, k32, "same", out=out) is out
        with pytest.raises(TypeError, match="out"):
            npfast.convolve2d(xi, k32, "same", out=np.empty((12, 9), np.float64))
    assert npfast.correlate2d(rng.integers(0, 9, (5, 5)).astype(np.int32), k32).dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_separable_kernels_take_two_passes(isa, dtype):
    # Exactly rank-1 kernels (Gaussians, box filters) run as a row pass then a column pass.
    rng = np.random.default_rng(9)
    g = np.exp(-np.linspace(-2, 2, 7) ** 2)
    for k in [np.outer(g, g), np.ones((5, 4)), np.outer([1, -2, 1], [1, 4, 6, 4, 1]), np.outer(g[:3], g)]:
        k = k.astype(dtype)
        for shape in [(1, 1), (6, 9), (37, 53), (2, 61, 45)]:
            x = rng.standard_normal(shape).astype(dtype)
            for mode in MODES:
                for boundary in BOUNDARIES:
                    planes = x.reshape((-1,) + x.shape[-2:])
                    want = [scipy_ref(ss.correlate2d, p, k, mode=mode, boundary=boundary, fillvalue=0.5)
                            for p in planes]
                    if want[0] is None:
                        continue
                    got = npfast.correlate2d(x, k, mode, boundary, 0.5).reshape((-1,) + want[0].shape)
                    for gp, wp in zip(got, want):
                        close(gp, wp, x, k)


def test_out_argument(isa):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((12, 13)).astype(np.float32)
    k = rng.standard_normal((3, 2)).astype(np.float32)
    out = np.empty((14, 14), np.float32)
    assert npfast.correlate2d(x, k, out=out) is out
    want = ss.correlate2d(x.astype(float), k.astype(float))
    close(out, want, x, k)
    strided = np.zeros((14, 28), np.float32)[:, ::-2]
    npfast.correlate2d(x, k, out=strided)
    close(strided, want, x, k)
    sentinel = np.full((14, 14), 7.0, np.float32)
    with pytest.raises(TypeError, match="out"):
        npfast.correlate2d(x, k, out=np.empty((14, 14), np.float64))
    with pytest.raises(ValueError, match="out"):
        npfast.correlate2d(x, k, out=np.empty((12, 13), np.float32))
    with pytest.raises(ValueError, match="mode"):
        npfast.correlate2d(x, k, "bogus", out=sentinel)
    assert (sentinel == 7.0).all()
    buf = np.zeros((30, 30), np.float32)
    with pytest.raises(ValueError, match="share memory"):
        npfast.correlate2d(buf[:12, :13], k, out=buf[2:16, 2:16])


def test_bad_input():
    x = np.ones((5, 5))
    with pytest.raises(ValueError, match="in2"):
        npfast.correlate2d(x, np.ones(3))
    with pytest.raises(ValueError, match="in2"):
        npfast.correlate2d(x, np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="in2"):
        npfast.correlate2d(x, np.ones((0, 3)))
    with pytest.raises(ValueError, match="in1"):
        npfast.correlate2d(np.ones(5), np.ones((2, 2)))
    with pytest.raises(ValueError, match="mode"):
        npfast.convolve2d(x, np.ones((2, 2)), mode="middle")
    with pytest.raises(ValueError, match="boundary"):
        npfast.convolve2d(x, np.ones((2, 2)), boundary="reflect")
    with pytest.raises(ValueError, match="valid"):
        npfast.correlate2d(np.ones((5, 3)), np.ones((3, 5)), "valid")
    with pytest.raises(TypeError, match="in1"):
        npfast.correlate2d(np.array([["a", "b"]]), np.ones((1, 1)))
    with pytest.raises(TypeError, match="in1"):
        npfast.correlate2d(np.empty((2, 2), object), np.ones((1, 1)))
    with pytest.raises(TypeError, match="in2"):
        npfast.correlate2d(x, np.ones((2, 2), np.complex128))
    with pytest.raises(ValueError, match="fillvalue"):  # SciPy's class (issue 22)
        npfast.correlate2d(x, np.ones((2, 2)), fillvalue="zero")


def test_huge_zero_stride_view_raises_memory_error():
    # (NumPy itself refuses a float32 view of 2**31 x 2**31: its byte size overflows.)
    for t, n in [(np.uint8, 2**31), (np.float32, 2**30)]:
        x = as_strided(np.zeros(1, t), shape=(n, n), strides=(0, 0))
        k = np.ones((3, 3), t)
        for mode in MODES:
            with pytest.raises(MemoryError):
                npfast.correlate2d(x, k, mode)
        with pytest.raises(MemoryError):
            ndimage.correlate(x, k)


def test_empty_planes_and_stacks():
    k = np.ones((2, 2))
    assert npfast.correlate2d(np.zeros((0, 3)), k, "same").shape == (0, 3)
    got = npfast.correlate2d(np.zeros((0, 3)), k, "full", fillvalue=2.0)
    np.testing.assert_array_equal(got, ss.correlate2d(np.zeros((0, 3)), k, "full", fillvalue=2.0))
    assert npfast.correlate2d(np.zeros((0, 4, 5)), k, "same").shape == (0, 4, 5)


def test_threads_give_identical_bits(threads):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 301, 257)).astype(np.float32)
    for k in [rng.standard_normal((3, 3)), rng.standard_normal((4, 7))]:
        k = k.astype(np.float32)
        npfast.set_num_threads(1)
        one = npfast.correlate2d(x, k, "same", "symm")
        npfast.set_num_threads(4)
        many = npfast.correlate2d(x, k, "same", "symm")
        np.testing.assert_array_equal(one, many)
        close(one[1], ss.correlate2d(x[1].astype(float), k.astype(float), "same", "symm"), x, k)


def test_small_call_stays_on_one_thread(threads):
    """corr2d's cost model (run_plan, grain_for): 128^2 3x3 float32 (~6 us on one core) is
    under two kMinChunkNs and runs on the caller; 1000^2 7x7 float32 (~1.2 ms) is handed to the
    pool (or kept serial by the pool's back-off, which counts it too) when there are two cores."""
    from npfast import _npfast

    rng = np.random.default_rng(9)
    k3 = rng.standard_normal((3, 3)).astype(np.float32)
    k7 = rng.standard_normal((7, 7)).astype(np.float32)
    small = rng.standard_normal((128, 128)).astype(np.float32)
    big = rng.standard_normal((1000, 1000)).astype(np.float32)
    npfast.set_num_threads(2)
    c0 = _npfast._pool_counters()
    npfast.correlate2d(small, k3, "same")
    c1 = _npfast._pool_counters()
    assert (c1["threaded"], c1["serial"]) == (c0["threaded"], c0["serial"])
    npfast.correlate2d(big, k7, "same")
    c2 = _npfast._pool_counters()
    used = c2["threaded"] + c2["serial"] - c1["threaded"] - c1["serial"]
    assert used == (1 if len(os.sched_getaffinity(0)) >= 2 else 0)

def test_nonfinite_propagate(isa):
    x = np.ones((6, 6), np.float32)
    x[2, 3] = np.nan
    x[4, 0] = np.inf
    k = np.ones((3, 3), np.float32)
    np.testing.assert_array_equal(np.isnan(npfast.correlate2d(x, k, "same")),
                                  np.isnan(ss.correlate2d(x, k, "same")))


@pytest.mark.parametrize("n", [1000, 1500])
@pytest.mark.parametrize("offset", [16, 1040, 2064, 3088])
def test_new_output_placed_off_the_input_alias(n, offset):
    # A new output starts where no input row the kernels load next (rows up to 4 apart for
    # 3x3) meets an output row they just stored modulo 4 KiB (docs/threads.md, cliff20); the
    # values are those of an out= call, and the array owns no more than it shows.
    buf = np.zeros(n * n * 4 + 8192, np.uint8)
    start = (-buf.ctypes.data) % 4096 + offset
    x = buf[start:start + n * n * 4].view(np.float32).reshape(n, n)
    x[...] = np.random.default_rng(0).standard_normal((n, n))
    k = np.ones((3, 3), np.float32)
    for name in ("signal", "ndimage"):
        y = (npfast.correlate2d(x, k, mode="same") if name == "signal"
             else ndimage.correlate(x, k, mode="constant"))
        assert y.flags.c_contiguous and y.flags.owndata is False and y.ctypes.data % 64 == 0
        for rows in range(-4, 5):
            assert (y.ctypes.data - x.ctypes.data + rows * 4 * n) % 4096 > 448, (name, rows)
    o = np.empty_like(x)
    npfast.correlate2d(x, k, mode="same", out=o)
    np.testing.assert_array_equal(npfast.correlate2d(x, k, mode="same"), o)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_out_at_every_page_offset_gives_the_new_outputs_bits(isa, threads, dtype):
    # A caller's output inside the 4 KiB alias of its input runs the 3x3 interior right to left
    # (docs/threads.md, outalias): out= and output= at every 64-byte distance from the input
    # give the bits of a new output, on every ISA and thread count.
    rng = np.random.default_rng(10)
    n, item = 350, np.dtype(dtype).itemsize
    buf = np.zeros(n * n * item + 8192, np.uint8)
    start = (-buf.ctypes.data) % 4096 + 16
    x = buf[start:start + n * n * item].view(dtype).reshape(n, n)
    x[...] = rng.standard_normal((n, n))
    k = rng.standard_normal((3, 3)).astype(dtype)
    obuf = np.zeros(n * n * item + 8192, np.uint8)
    for t in (1, 2):
        npfast.set_num_threads(t)
        want = {b: npfast.correlate2d(x, k, mode="same", boundary=b) for b in BOUNDARIES}
        want_nd = ndimage.correlate(x, k, mode="reflect")
        for d in range(0, 4096, 64):
            at = (x.ctypes.data + d - obuf.ctypes.data) % 4096  # out - x = d (mod 4096)
            o = obuf[at:at + n * n * item].view(dtype).reshape(n, n)
            for b in BOUNDARIES:
                o[...] = np.nan
                npfast.correlate2d(x, k, mode="same", boundary=b, out=o)
                np.testing.assert_array_equal(o, want[b], err_msg=f"{b} distance {d} threads {t}")
            o[...] = np.nan
            ndimage.correlate(x, k, mode="reflect", output=o)
            np.testing.assert_array_equal(o, want_nd, err_msg=f"ndimage distance {d} threads {t}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_interior_runs_right_to_left_where_the_alias_rule_says(threads, dtype):
    # Both directions give the same bits, so only the rows run right to left show the choice
    # (docs/threads.md "outalias", "aliaspick"). The rule itself is tested on synthetic addresses
    # (C++ Corr2dOp.InteriorRunsReverseExactlyWhereForwardRowsAlias); here, that the operator asks
    # it about the addresses it runs: each plane's own, and the middle of an output element's
    # window (column - left + 1 for 3x3), which an origin moves by a column. 64 distances from
    # the input, a stack whose planes lie at different distances, ndimage origins.
    from npfast import _npfast

    rng = np.random.default_rng(11)
    n, item = 350, np.dtype(dtype).itemsize
    rs, plane = n * item, n * n * item
    gap = 1344  # the output's second plane lies this much further from the input's
    buf = np.zeros(2 * plane + 8192, np.uint8)
    start = (-buf.ctypes.data) % 4096 + 16
    x = buf[start:start + 2 * plane].view(dtype).reshape(2, n, n)
    x[...] = rng.standard_normal((2, n, n))
    k = rng.standard_normal((3, 3)).astype(dtype)
    obuf = np.zeros(2 * plane + gap + 8192, np.uint8)

    def rows_reversed(call):
        before = _npfast._corr2d_reverse_rows()
        call()
        return _npfast._corr2d_reverse_rows() - before

    def rule(load, store, top):
        return n * _npfast._corr2d_runs_reverse(load % 2**64, store % 2**64, rs, 3, top)

    one_plane = shifted = 0
    for t in (1, 2):
        npfast.set_num_threads(t)
        for d in range(0, 4096, 64):
            at = (x.ctypes.data + d - obuf.ctypes.data) % 4096  # out - x = d (mod 4096)
            o = as_strided(obuf[at:at + 2 * plane + gap].view(dtype), (2, n, n),
                           (plane + gap, rs, item))
            x0, o0 = x.ctypes.data, o.ctypes.data
            got = rows_reversed(lambda: npfast.correlate2d(x, k, mode="same", out=o))
            want = rule(x0, o0, 1) + rule(x0 + plane, o0 + plane + gap, 1)
            assert got == want, f"stack, distance {d}, threads {t}"
            one_plane += want == n
            for oy, ox in ((0, 0), (0, 1), (0, -1), (1, 0), (-1, 1)):
                got = rows_reversed(
                    lambda: ndimage.correlate(x[0], k, output=o[0], origin=(oy, ox)))
                want = rule(x0 - ox * item, o0, 1 + oy)
                assert got == want, f"origin {(oy, ox)}, distance {d}, threads {t}"
                shifted += want != rule(x0, o0, 1 + oy)
    assert one_plane and shifted  # the placements above reach both cases


def test_fillvalue_real_objects():
    """probe21d: a fillvalue NumPy keeps as an object (an int past 64 bits, a Fraction, a
    Decimal) is its float(), as SciPy's cast; strings and complex numbers stay refused."""
    from decimal import Decimal
    from fractions import Fraction

    a, k = np.ones((2, 3)), np.ones((2, 2))
    for f in (2**64, -(2**63) - 1, Fraction(1, 2), Decimal("1.5")):
        np.testing.assert_array_equal(npfast.correlate2d(a, k, "full", "fill", f),
                                      ss.correlate2d(a, k, "full", "fill", f))
    for f in ("1", 1j, object()):
        with pytest.raises(ValueError, match="fillvalue"):
            npfast.correlate2d(a, k, "full", "fill", f)
