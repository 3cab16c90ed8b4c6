"""npfast.matmul against NumPy (float64-accumulated), on every ISA path."""

import numpy as np
import pytest

import npfast
from tolerances import assert_matmul_close as assert_close

DTYPES = [np.float32, np.float64]




@pytest.mark.parametrize("dtype", DTYPES)
def test_random_shapes(isa, dtype):
    rng = np.random.default_rng(0)
    shapes = [(1, 1, 1), (1, 7, 3), (7, 1, 3), (5, 6, 0), (6, 16, 16), (7, 17, 9), (13, 33, 70),
              (64, 64, 64), (65, 129, 257), (3, 500, 40), (200, 5, 300)]
    shapes += [tuple(rng.integers(1, 90, size=3)) for _ in range(6)]
    for m, n, k in shapes:
        a = rng.standard_normal((m, k)).astype(dtype)
        b = rng.standard_normal((k, n)).astype(dtype)
        assert_close(npfast.matmul(a, b), a, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_strides_and_orders(isa, dtype):
    rng = np.random.default_rng(1)
    base_a = rng.standard_normal((60, 70)).astype(dtype)
    base_b = rng.standard_normal((70, 80)).astype(dtype)
    views_a = [base_a, base_a.T.copy().T, np.asfortranarray(base_a), base_a[::-1], base_a[:, ::-1],
               base_a[::2, ::3]]
    for va in views_a:
        vb_all = [base_b[: va.shape[1]], np.asfortranarray(base_b[: va.shape[1]]),
                  base_b[: va.shape[1], ::-2], base_b[::-1][: va.shape[1]],
                  np.broadcast_to(base_b[0], (va.shape[1], 80))]
        for vb in vb_all:
            assert_close(npfast.matmul(va, vb), va, vb)
    # Transposed views go in place (gemm's trans flags).
    assert_close(npfast.matmul(base_a.T, base_a), base_a.T, base_a)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batched_and_broadcast(isa, dtype):
    rng = np.random.default_rng(2)
    a3 = rng.standard_normal((4, 9, 11)).astype(dtype)
    b3 = rng.standard_normal((4, 11, 20)).astype(dtype)
    b2 = rng.standard_normal((11, 20)).astype(dtype)
    a2 = rng.standard_normal((9, 11)).astype(dtype)
    assert_close(npfast.matmul(a3, b3), a3, b3)
    assert_close(npfast.matmul(a3, b2), a3, b2)
    assert_close(npfast.matmul(a2, b3), a2, b3)
    assert_close(npfast.matmul(a3[:1], b3), a3[:1], b3)
    assert_close(npfast.matmul(a3, b3[:1]), a3, b3[:1])
    assert_close(npfast.matmul(a3.transpose(0, 2, 1).copy().transpose(0, 2, 1), b3[:, :, ::2]),
                 a3, b3[:, :, ::2])
    assert_close(npfast.matmul(a3[::-1], b3[::2].repeat(2, axis=0)), a3[::-1], b3[::2].repeat(2, axis=0))
    many_a = rng.standard_normal((300, 8, 8)).astype(dtype)
    many_b = rng.standard_normal((300, 8, 8)).astype(dtype)
    assert_close(npfast.matmul(many_a, many_b), many_a, many_b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_vectors_and_empty(dtype):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((5, 4)).astype(dtype)
    v = rng.standard_normal(4).astype(dtype)
    w = rng.standard_normal(5).astype(dtype)
    assert_close(npfast.matmul(a, v), a, v)
    assert_close(npfast.matmul(w, a), w, a)
    assert_close(npfast.matmul(v, v), v, v)
    # Two 1-D operands give a NumPy scalar of the dtype, as np.matmul; out= (0-d) is returned.
    r = npfast.matmul(v, v)
    assert type(r) is type(np.matmul(v, v)) and type(r) is dtype
    o = np.empty((), dtype)
    assert npfast.matmul(v, v, out=o) is o and o == r
    assert npfast.matmul(np.zeros((0, 4), dtype), np.zeros((4, 3), dtype)).shape == (0, 3)
    z = npfast.matmul(np.ones((3, 0), dtype), np.ones((0, 2), dtype))
    assert z.shape == (3, 2) and (z == 0).all()
    assert npfast.matmul(np.ones((0, 3, 4), dtype), np.ones((4, 2), dtype)).shape == (0, 3, 2)
    assert npfast.matmul(np.ones((1, 3, 4), dtype), np.ones((0, 4, 2), dtype)).shape == (0, 3, 2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_misaligned_buffer(dtype):
    rng = np.random.default_rng(6)
    a = rng.standard_normal((9, 13)).astype(dtype)
    raw = np.zeros(a.nbytes + 1, np.uint8)
    mis = np.frombuffer(raw.data, dtype=dtype, count=a.size, offset=1).reshape(a.shape)
    raw[1:] = np.frombuffer(a.tobytes(), np.uint8)
    assert not mis.flags.aligned
    b = rng.standard_normal((13, 5)).astype(dtype)
    assert_close(npfast.matmul(mis, b), a, b)


def test_lists_and_scalars_promote_like_arrays():
    got = npfast.matmul([[1.0, 2.0]], [[3.0], [4.0]])
    assert got.dtype == np.float64 and got.tolist() == [[11.0]]


@pytest.mark.parametrize("dtype", DTYPES)
def test_out(isa, dtype):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((30, 20)).astype(dtype)
    b = rng.standard_normal((20, 25)).astype(dtype)
    out = np.full((30, 25), np.nan, dtype)
    assert npfast.matmul(a, b, out=out) is out
    assert_close(out, a, b)
    for strided in [np.zeros((30, 50), dtype)[:, ::2], np.zeros((25, 30), dtype).T,
                    np.zeros((60, 25), dtype)[::-2]]:
        npfast.matmul(a, b, out=strided)
        assert_close(strided, a, b)
    out3 = np.zeros((2, 30, 25), dtype)
    npfast.matmul(np.stack([a, a]), b, out=out3)
    assert_close(out3, np.stack([a, a]), b)


def test_errors_name_argument_and_leave_out_untouched():
    a = np.ones((4, 6), np.float32)
    out = np.full((4, 3), -1.0, np.float32)
    with pytest.raises(ValueError, match=r"b: inner dimensions differ \(6 vs 5\).*\(4, 6\).*\(5, 3\)"):
        npfast.matmul(a, np.ones((5, 3), np.float32), out=out)
    with pytest.raises(TypeError, match="b: dtype float64 does not match a's float32"):
        npfast.matmul(a, np.ones((6, 3)), out=out)
    with pytest.raises(TypeError, match="a: dtype must be float32 or float64, got int64"):
        npfast.matmul(np.ones((4, 6), np.int64), np.ones((6, 3), np.int64))
    with pytest.raises(TypeError, match="a: unsupported dtype"):
        npfast.matmul(np.ones((4, 6), np.complex64), np.ones((6, 3), np.complex64))
    # Any number of batch dimensions, as np.matmul (issue 22); 0-d operands are refused.
    assert npfast.matmul(np.ones((2, 2, 4, 6), np.float32), np.ones((6, 3), np.float32)).shape == (
        2, 2, 4, 3)
    with pytest.raises(ValueError, match="a: must have at least 1 dimension"):
        npfast.matmul(np.float32(1), np.ones((6, 3), np.float32))
    with pytest.raises(ValueError, match=r"b: batch sizes differ \(2 vs 3\)"):
        npfast.matmul(np.ones((2, 4, 6), np.float32), np.ones((3, 6, 3), np.float32))
    with pytest.raises(ValueError, match=r"out: shape must be \(4, 2\), got \(4, 3\)"):
        npfast.matmul(a, np.ones((6, 2), np.float32), out=out)
    with pytest.raises(TypeError, match="out: dtype must be float32, got float64"):
        npfast.matmul(a, np.ones((6, 3), np.float32), out=np.zeros((4, 3)))
    with pytest.raises(ValueError, match="out: must not share memory"):
        big = np.ones((6, 6), np.float32)
        npfast.matmul(big, big, out=big)
    ro = np.zeros((4, 3), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        npfast.matmul(a, np.ones((6, 3), np.float32), out=ro)
    with pytest.raises(TypeError, match="a: expected an array, got None"):
        npfast.matmul(None, a)
    assert (out == -1).all()


def test_nan_and_inf_propagate(isa):
    a = np.ones((7, 5))
    b = np.ones((5, 9))
    a[2, 3] = np.nan
    b[1, 4] = np.inf
    got = npfast.matmul(a, b)
    want = a @ b
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[np.isfinite(want)], want[np.isfinite(want)])


@pytest.mark.parametrize("dtype", DTYPES)
def test_thread_count_bitwise_invariant(threads, dtype):
    rng = np.random.default_rng(5)
    for m, n, k, batch in [(301, 257, 611, 1), (7, 900, 300, 1), (900, 7, 300, 1), (40, 40, 40, 50)]:
        a = rng.standard_normal((batch, m, k) if batch > 1 else (m, k)).astype(dtype)
        b = rng.standard_normal((k, n)).astype(dtype)
        npfast.set_num_threads(1)
        one = npfast.matmul(a, b)
        npfast.set_num_threads(2)
        two = npfast.matmul(a, b)
        npfast.set_num_threads(3)
        three = npfast.matmul(a, b)
        assert one.tobytes() == two.tobytes() == three.tobytes()
        assert_close(one, a, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_thread_count_bitwise_invariant_many_passes(threads, dtype):
    # Several K groups and two column blocks of packed B on AVX-512 (the shared schedule packs
    # the next pass's B inside the current pass's job on several threads).
    rng = np.random.default_rng(6)
    a = rng.standard_normal((700, 1700)).astype(dtype)
    b = rng.standard_normal((1700, 2100)).astype(dtype)
    got = []
    for t in (1, 2, 3, 7, 16):
        npfast.set_num_threads(t)
        got.append(npfast.matmul(a, b).tobytes())
    assert all(g == got[0] for g in got[1:])


def test_kernel_names_in_config():
    kernels = npfast.config()["kernels"]
    isa = npfast.config()["isa"]
    assert kernels["matmul_f32"].startswith("f32_gemm_") and kernels["matmul_f32"].endswith(isa)
    assert kernels["matmul_f64"].startswith("f64_gemm_")


# Matrix x vector (one operand a single row or column) runs on the gemv kernels (rows of a
# matrix with neither contiguous rows nor columns gathered piece by piece), misaligned operands
# on the GEMM path: both against NumPy.
MATVEC_SIZES = [(1, 1), (1, 37), (37, 1), (3, 5), (17, 16), (16, 17), (33, 65), (129, 127),
                (255, 257), (300, 300), (1000, 7), (7, 1000), (1999, 333), (333, 1999)]


@pytest.mark.parametrize("dtype", DTYPES)
def test_matvec_shapes_and_orientations(isa, dtype):
    rng = np.random.default_rng(7)
    for m, k in MATVEC_SIZES:
        a = rng.standard_normal((m, k)).astype(dtype)
        x = rng.standard_normal(k).astype(dtype)
        w = rng.standard_normal(m).astype(dtype)
        assert_close(npfast.matmul(a, x), a, x)
        assert_close(npfast.matmul(a, x[:, None]), a, x[:, None])
        assert_close(npfast.matmul(w, a), w, a)
        assert_close(npfast.matmul(w[None, :], a), w[None, :], a)
        # Column-major matrices: the other kernel.
        f = np.asfortranarray(a)
        assert_close(npfast.matmul(f, x), f, x)
        assert_close(npfast.matmul(w, f), w, f)


@pytest.mark.parametrize("dtype", DTYPES)
def test_matvec_strides(isa, dtype):
    rng = np.random.default_rng(8)
    base = rng.standard_normal((90, 140)).astype(dtype)
    vec = rng.standard_normal(300).astype(dtype)
    for a in [base[:, :71], base[::-1, :71], base[::2, ::2], base[:, ::-1][:, :71], base.T[:71, :45],
              base[1:, 1:72]]:
        m, k = a.shape
        for x in [vec[:k], vec[::2][:k], vec[::-3][:k], np.broadcast_to(vec[:1], (k,))]:
            assert_close(npfast.matmul(a, x), a, x)
            assert_close(npfast.matmul(a, x[:, None]), a, x[:, None])
        for w in [vec[:m], vec[::2][:m], vec[::-1][:m]]:
            assert_close(npfast.matmul(w, a), w, a)
    # Misaligned operands go through the copy.
    raw = np.zeros(base.nbytes + 1, np.uint8)
    mis = np.frombuffer(raw.data, dtype=dtype, count=base.size, offset=1).reshape(base.shape)
    raw[1:] = np.frombuffer(base.tobytes(), np.uint8)
    assert_close(npfast.matmul(mis, vec[:140]), base, vec[:140])
    assert_close(npfast.matmul(vec[:90], mis), vec[:90], base)


def handed_out(_npfast):
    # Jobs split into chunks for helpers: handed to them, or run by the caller alone while the
    # pool's back-off holds (the same chunks).
    c = _npfast._pool_counters()
    return c["threaded"] + c["serial"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_matvec_gathered_rows(isa, threads, dtype):
    """A matrix strided along k whose rows are not side by side either (a[:, ::2], broadcast
    rows, batches of them) is dotted piece by piece from a small buffer: the bits of the same
    matrix with contiguous rows, for any thread count (the helpers taking part: the test core
    cap counts them awake), within kDotPiece pieces and across them; x @ b likewise against
    b with contiguous columns (its matrix is b^T)."""
    from npfast import _npfast
    rng = np.random.default_rng(10)
    try:
        _npfast._set_core_cap_for_testing(16)
        for m, k in [(2, 3), (5, 7), (9, 4096), (6, 4097), (13, 9000), (300, 5000)]:
            base = rng.standard_normal((m, 2 * k)).astype(dtype)
            x = rng.standard_normal(k).astype(dtype)
            mats = [base[:, ::2], base[::-1, ::-2], np.broadcast_to(base[0, :k], (m, k)),
                    np.broadcast_to(base[:, ::2], (3, m, k))]
            for a in mats:
                want = npfast.matmul(np.ascontiguousarray(a), x)
                assert_close(want, a, x)
                for th in (1, 2, 7):
                    npfast.set_num_threads(th)
                    before = handed_out(_npfast)
                    np.testing.assert_array_equal(npfast.matmul(a, x), want)
                    if th > 1 and m * k >= 300 * 5000:
                        assert handed_out(_npfast) > before  # split for the helpers
                    np.testing.assert_array_equal(npfast.matmul(a, x[:, None])[..., 0], want)
            b = base[:, ::2].T  # (k, m): x @ b's matrix b^T has rows strided along k
            w = rng.standard_normal(k).astype(dtype)
            np.testing.assert_array_equal(npfast.matmul(w, b),
                                          npfast.matmul(w, np.asfortranarray(b)))
    finally:
        _npfast._set_core_cap_for_testing(0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_matvec_strided_result_keeps_the_gemm_path(isa, dtype):
    """review21b: contiguous columns with a strided result are not gathered (strided reads);
    the result is right either way."""
    rng = np.random.default_rng(11)
    b = rng.standard_normal((300, 200)).astype(dtype)
    x = rng.standard_normal(300).astype(dtype)
    out = np.zeros(400, dtype)
    r = npfast.matmul(x, b, out=out[::2])
    assert_close(r, x, b)
    assert_close(npfast.matmul(np.asfortranarray(b.T), x, out=out[::2]), b.T, x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_matvec_batched_and_out(isa, dtype):
    rng = np.random.default_rng(9)
    a3 = rng.standard_normal((5, 33, 47)).astype(dtype)
    x = rng.standard_normal(47).astype(dtype)
    xb = rng.standard_normal((5, 47, 1)).astype(dtype)
    wb = rng.standard_normal((5, 1, 33)).astype(dtype)
    w = rng.standard_normal(33).astype(dtype)
    assert_close(npfast.matmul(a3, x), a3, x)
    assert_close(npfast.matmul(a3, xb), a3, xb)
    assert_close(npfast.matmul(wb, a3), wb, a3)
    assert_close(npfast.matmul(w, a3), w, a3)
    assert_close(npfast.matmul(a3[::-2], xb[::2, ::-1]), a3[::-2], xb[::2, ::-1])
    assert_close(npfast.matmul(a3[0], xb), a3[0], xb)
    a4 = rng.standard_normal((2, 3, 20, 30)).astype(dtype)
    x4 = rng.standard_normal((3, 30, 1)).astype(dtype)
    assert_close(npfast.matmul(a4, x4), a4, x4)
    # out=, contiguous and strided, the result overwritten whatever it held.
    out = np.full((5, 33), np.nan, dtype)
    assert npfast.matmul(a3, x, out=out) is out
    assert_close(out, a3, x)
    outs = np.full((5, 66), np.nan, dtype)[:, ::2]
    npfast.matmul(a3, x, out=outs)
    assert_close(outs, a3, x)
    outw = np.full((5, 1, 94), np.nan, dtype)[:, :, ::2]
    npfast.matmul(wb, a3, out=outw)
    assert_close(outw, wb, a3)
    outv = np.full(66, np.nan, dtype)[::-2]
    npfast.matmul(a3[1], x, out=outv)
    assert_close(outv, a3[1], x)
    # The bits do not depend on out='s layout or on x's stride (probe24d: a strided y with
    # contiguous columns, and a batched strided x, went to the GEMM path, another sum order).
    k = 300
    af = np.asfortranarray(rng.standard_normal((5, k)).astype(dtype))
    v = rng.standard_normal(k).astype(dtype)
    o = np.full(10, np.nan, dtype)[::2]
    assert np.array_equal(npfast.matmul(af, v, out=o), npfast.matmul(af, v))
    bc = rng.standard_normal((k, 3)).astype(dtype)
    o = np.full(3, np.nan, dtype)[::-1]
    assert np.array_equal(npfast.matmul(v, bc, out=o), npfast.matmul(v, bc))
    o = np.full((2, 1, 6), np.nan, dtype)[..., ::2]
    v2 = rng.standard_normal((2, 1, k)).astype(dtype)
    assert np.array_equal(npfast.matmul(v2, bc, out=o), npfast.matmul(v2, bc))
    ab = rng.standard_normal((3, 5, k)).astype(dtype)
    xc = rng.standard_normal((3, k, 1)).astype(dtype)
    xs = np.repeat(xc, 2, axis=1)[:, ::2]  # the same values, k-stride 2
    assert np.array_equal(npfast.matmul(ab, xs), npfast.matmul(ab, xc))
    # One output from a strided vector: the bits of the contiguous one (review24: the strided
    # one went by axpy, the contiguous by dot).
    m1 = rng.standard_normal((k, 1)).astype(dtype)
    vs = np.repeat(v, 2)[::2]
    assert np.array_equal(npfast.matmul(vs, m1), npfast.matmul(v, m1))
    # Any stride on a length-1 axis of out=, as NumPy (probe24d: 3 bytes was refused).
    buf = np.zeros(4, dtype)
    o1 = np.lib.stride_tricks.as_strided(buf, (1, 3), (3, buf.itemsize))
    assert np.array_equal(npfast.matmul(v[None], bc, out=o1), npfast.matmul(v[None], bc))


def test_matvec_nan_inf_and_zero_depth(isa):
    a = np.ones((9, 40))
    a[2, 5] = np.nan
    a[4, 39] = np.inf
    x = np.ones(40)
    for got, want in [(npfast.matmul(a, x), a @ x), (npfast.matmul(x[:9], a), x[:9] @ a)]:
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(got[np.isfinite(want)], want[np.isfinite(want)])
    assert (npfast.matmul(np.ones((5, 0)), np.ones(0)) == 0).all()
    assert (npfast.matmul(np.ones(0), np.ones((0, 5))) == 0).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_matvec_thread_count_bitwise_invariant(threads, dtype):
    npfast._npfast._set_core_cap_for_testing(16)  # partitions for 16 threads on any machine
    try:
        _matvec_thread_count_bitwise_invariant(dtype)
    finally:
        npfast._npfast._set_core_cap_for_testing(0)


def _matvec_thread_count_bitwise_invariant(dtype):
    rng = np.random.default_rng(10)
    # w @ a with at most 16 KiB of outputs and 1024+ rows sums in row groups (src/ops/gemv.cc):
    # (2000, 1500), (20000, 65), (2049, 7) (a last block of one row), (1025, 300).
    for m, k in [(3001, 2999), (2000, 1500), (65, 20000), (20000, 65), (2049, 7), (1025, 300)]:
        a = rng.standard_normal((m, k)).astype(dtype)
        x = rng.standard_normal(k).astype(dtype)
        w = rng.standard_normal(m).astype(dtype)
        a3 = a[: m // 8 * 8].reshape(8, m // 8, k)
        got = []
        for t in (1, 2, 3, 7, 16):
            npfast.set_num_threads(t)
            got.append([npfast.matmul(a, x).tobytes(), npfast.matmul(w, a).tobytes(),
                        npfast.matmul(a3, x).tobytes()])
        assert all(g == got[0] for g in got[1:]), (m, k)
        assert_close(npfast.matmul(w, a), w, a)
    # A product's bits do not depend on the call's other products or columns (review20b: the
    # row groups were once chosen from the whole call's outputs): batched, wider, strided x.
    k = 2000
    x3 = rng.standard_normal((5, 1, k)).astype(dtype)
    a3 = rng.standard_normal((5, k, 300)).astype(dtype)
    one = npfast.matmul(x3[0, 0], a3[0])
    for t in (1, 2, 16):
        npfast.set_num_threads(t)
        assert npfast.matmul(x3, a3)[0, 0].tobytes() == one.tobytes()
        assert npfast.matmul(x3[0, 0], np.concatenate([a3[0]] * 9, 1))[:300].tobytes() == \
            one.tobytes()
        xs = np.repeat(x3[0, 0], 2)[::2]  # a strided x
        assert npfast.matmul(xs, a3[0]).tobytes() == one.tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
def test_matvec_accuracy_does_not_fall_with_depth(isa, dtype):
    """probe19a: the matrix x vector kernels kept one running sum per output (per lane) over all
    of k, so the error grew with k: float32 x @ A at k = 10^6 was 1.4e-4 off (NumPy 2e-6), float64
    at k = 2 * 10^5 2.1e-14 (NumPy 4e-15). Summed in pieces: 2e-6 and 1.4e-15 on every ISA. The
    data is positive, so |a| @ |b| is the exact result (taken in long double)."""
    k = 10**6 if dtype == np.float32 else 2 * 10**5
    bound = 1e-5 if dtype == np.float32 else 7e-15
    rng = np.random.default_rng(19)
    v = rng.random(k).astype(dtype)
    m = rng.random((k, 4)).astype(dtype)
    rows = np.ascontiguousarray(m.T)
    exact = (v.astype(np.longdouble) @ m.astype(np.longdouble)).astype(np.float64)
    for got in (npfast.matmul(v, m), npfast.matmul(v[None, :], m)[0], npfast.matmul(m.T, v),
                npfast.matmul(rows, v), np.array([npfast.matmul(rows[j], v) for j in range(4)])):
        np.testing.assert_array_less(np.abs(got - exact) / exact, bound)


def test_memory_errors_name_the_array():
    """probe21b: an operand's contiguous copy or the result past memory said "allocate: the OS
    refused N bytes" (the pool's own name); each names its array now."""
    # Sizes past the pool's and the result's caps (2^52 and 2^47 bytes), refused before any
    # mapping (a smaller one could be granted under memory overcommit, then written).
    big = np.broadcast_to(np.float32(1), (2**26, 2**25))  # no GEMM layout: a copy of 8 PiB
    with pytest.raises(MemoryError, match="^a: cannot allocate 9007199254740992 bytes"):
        npfast.matmul(big, np.broadcast_to(np.float32(1), (2**25, 3)))
    with pytest.raises(MemoryError, match="^b: cannot allocate"):
        npfast.matmul(np.broadcast_to(np.float32(1), (3, 2**26)), big)
    with pytest.raises(MemoryError, match="^output: cannot allocate 281474976710656 bytes"):
        npfast.matmul(np.broadcast_to(1.0, (2**45, 4)), np.ones(4))
