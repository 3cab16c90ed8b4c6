"""npfast.conv2d / conv2d_backward against PyTorch and the scalar oracle (_conv2d_reference),
on every ISA path and every algorithm the planner picks."""

import numpy as np
import pytest

import npfast
from npfast import _npfast

from anchors import F, needs_torch, torch
from tolerances import tol

# (N, C, H, W, O, kh, kw, stride, padding, dilation, groups): every algorithm and edge.
CASES = [
    (2, 3, 9, 11, 5, 3, 2, 1, 1, 1, 1),              # direct, asymmetric kernel
    (1, 3, 32, 32, 10, 2, 2, 2, 0, 1, 1),            # the 32x32x3 / ten 2x2x3 / stride 2 case
    (1, 3, 23, 19, 9, 7, 7, 2, 3, 1, 1),             # stem-like 7x7 stride 2
    (2, 4, 10, 13, 6, 3, 3, (2, 3), (1, 2), (2, 1), 2),  # direct, grouped, dilated
    (2, 8, 9, 11, 8, 3, 3, 1, 1, 1, 8),              # depthwise
    (1, 6, 17, 40, 6, 5, 3, 2, (2, 1), (1, 2), 6),   # depthwise strided, dilated
    (2, 4, 9, 11, 8, 3, 3, 1, 1, 1, 4),              # channel multiplier 2 (direct)
    (2, 8, 9, 11, 6, 1, 1, 1, 0, 1, 2),              # 1x1 as GEMM, grouped
    (1, 16, 7, 5, 12, 1, 1, 2, 1, 1, 1),             # 1x1 strided and padded: im2col
    (2, 16, 9, 11, 6, 3, 3, (1, 2), 1, (2, 1), 2),   # im2col, grouped
    (1, 12, 6, 7, 20, 3, 2, 1, (0, 2), 1, 1),        # shifted GEMM, kw copies, asymmetric
    (2, 10, 7, 9, 6, 3, 3, 1, (2, 1), (1, 2), 2),    # shifted GEMM, grouped, dilated
    (1, 160, 5, 6, 8, 3, 3, 1, 1, (2, 1), 1),        # implicit GEMM, kernel rows split at KC (f32 192, f64 384)
    (2, 32, 7, 9, 12, 3, 3, 1, (2, 1), (1, 2), 2),   # implicit GEMM, grouped, dilated: per tap
    (1, 24, 6, 7, 20, 3, 2, 1, (0, 2), 1, 1),        # implicit GEMM, partial weight panel
    (2, 16, 7, 9, 20, 3, 3, 1, 1, 1, 1),             # Winograd, odd sizes, partial panel
    (1, 21, 12, 5, 16, 3, 3, 1, (0, 2), 1, 1),       # Winograd, asymmetric padding, C tail
    (1, 6, 5, 6, 8, 1, 1, 1, 1, 1, 1),               # padded 1x1: shifted GEMM
    (2, 8, 15, 17, 6, 3, 3, 2, 1, 1, 1),             # stride 2: polyphase shifted GEMM
    (1, 6, 20, 23, 5, 3, 5, (3, 2), (1, 2), (2, 1), 1),  # polyphase, uneven strides
    (3, 9, 5, 5, 4, 5, 5, 1, 0, 1, 1),               # 1x1 output
    (1, 5, 1, 1, 3, 1, 1, 1, 0, 1, 1),               # 1x1 spatial
    (0, 6, 8, 8, 4, 3, 3, 1, 1, 1, 1),               # N = 0
    (2, 5, 6, 4, 7, 3, 3, 1, 2, 1, 1),               # padding larger than needed
    (2, 16, 15, 17, 20, 3, 3, 2, 1, 1, 1),           # implicit GEMM, stride 2: row-phase planes
    (1, 24, 13, 16, 8, 3, 5, (3, 2), (1, 2), 1, 2),  # implicit GEMM, uneven strides, grouped
    (1, 20, 13, 15, 12, 3, 3, 1, 2, 2, 1),           # implicit GEMM, dilation 2: output phases
    (2, 16, 12, 16, 20, 3, 3, 1, 2, 2, 1),           # Winograd on dilation-2 input phases
    (2, 16, 11, 14, 9, 3, 2, 1, (3, 1), (3, 2), 1),  # output phases, uneven dilations
    (1, 16, 14, 13, 8, 3, 3, (2, 1), 2, (1, 2), 1),  # row phases and column output phases
]


def make(case, dtype, rng, bias=True):
    n, c, h, w, o, kh, kw, s, p, d, g = case
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    wt = rng.standard_normal((o, c // g, kh, kw)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype) if bias else None
    return x, wt, b, dict(stride=s, padding=p, dilation=d, groups=g)


def torch_conv(x, w, b, kw):
    t = lambda a: None if a is None else torch.from_numpy(np.ascontiguousarray(a))
    return F.conv2d(t(x), t(w), t(b), **kw).numpy()



def test_workspace_memory_errors_name_the_arguments():
    """probe18c: a workspace sized by padding and dilation past memory raised "allocate: the
    OS refused N bytes"; each convolution now names its input, padding, dilation and stride
    (conv_transpose2d's own name, not its inner conv2d_backward's)."""
    x = np.ones((1, 4, 8, 8), np.float32)
    w = np.ones((6, 4, 3, 3), np.float32)
    big = dict(padding=10**6, dilation=10**6)
    calls = [("conv2d", lambda: npfast.conv2d(x, w, **big)),
             ("conv2d_backward", lambda: npfast.conv2d_backward(np.ones((1, 6, 8, 8), np.float32),
                                                                x, w, **big)),
             ("conv_transpose2d", lambda: npfast.conv_transpose2d(
                 x, np.ones((4, 6, 3, 3), np.float32), **big))]
    for name, call in calls:
        with pytest.raises(MemoryError, match=f"\\({name} workspace for input .* padding "
                                              "\\(1000000, 1000000\\), dilation"):
            call()


def test_stride_past_the_image_costs_nothing():
    """probe18c: one output along an axis reads the same input whatever the stride, but the
    plans sized their work by it (stride 10**6 on 8x8: 860 MB, 7.5 s; 2**31 a MemoryError)."""
    rng = np.random.default_rng(19)
    x = rng.standard_normal((1, 4, 8, 8)).astype(np.float32)
    w = rng.standard_normal((6, 4, 3, 3)).astype(np.float32)
    want = npfast.conv2d(x, w, stride=6)  # the smallest stride with one output
    for s in (10**6, 2**31, 2**40, (6, 10**9)):
        np.testing.assert_array_equal(npfast.conv2d(x, w, stride=s), want)
        gx, gw, _ = npfast.conv2d_backward(np.ones((1, 6, 1, 1), np.float32), x, w, stride=s)
        gx6, gw6, _ = npfast.conv2d_backward(np.ones((1, 6, 1, 1), np.float32), x, w, stride=6)
        np.testing.assert_array_equal(gx, gx6)
        np.testing.assert_array_equal(gw, gw6)
    x16 = rng.standard_normal((1, 16, 8, 8)).astype(np.float32)
    w16 = rng.standard_normal((6, 16, 3, 3)).astype(np.float32)
    np.testing.assert_array_equal(npfast.conv2d(x16, w16, stride=(1, 10**5)),
                                  npfast.conv2d(x16, w16, stride=(1, 6)))


def test_every_algorithm_is_covered():
    rng = np.random.default_rng(0)
    seen = set()
    for case in CASES:
        x, w, _, kw = make(case, np.float32, rng)
        seen.add(_npfast._conv2d_algorithm(x, w, **kw))
    assert seen == {"direct", "depthwise", "gemm_1x1", "im2col_gemm", "shifted_gemm",
                    "implicit_gemm", "winograd"}


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_forward_matches_torch_and_reference(isa, dtype, case):
    rng = np.random.default_rng(1)
    for bias in (True, False):
        x, w, b, kw = make(case, dtype, rng, bias)
        got = npfast.conv2d(x, w, b, **kw)
        want = torch_conv(x, w, b, kw)
        assert got.dtype == dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, **tol("conv2d", dtype))
        ref = _npfast._conv2d_reference(x, w, b, **kw)
        np.testing.assert_allclose(got, ref, **tol("conv2d", dtype))


@needs_torch
def test_reference_matches_torch():
    rng = np.random.default_rng(2)
    for case in CASES:
        x, w, b, kw = make(case, np.float64, rng)
        np.testing.assert_allclose(_npfast._conv2d_reference(x, w, b, **kw),
                                   torch_conv(x, w, b, kw), **tol("conv2d", np.float64))


def random_case(rng, channels=(1, 6), dilation=3, size=14):
    """A random valid case of CASES' form: channels per group drawn from range(*channels) (or
    from the tuple given as a list), dilations below `dilation`, sizes below `size`."""
    g = int(rng.choice([1, 1, 2, 3]))
    c = g * int(rng.choice(channels) if isinstance(channels, list) else rng.integers(*channels))
    o = g * int(rng.integers(1, 5))
    kh, kw_ = (int(v) for v in rng.integers(1, 5, 2))
    s = tuple(int(v) for v in rng.integers(1, 4, 2))
    d = tuple(int(v) for v in rng.integers(1, dilation, 2))
    p = tuple(int(v) for v in rng.integers(0, 3, 2))
    h = int(rng.integers(max(1, d[0] * (kh - 1) + 1 - 2 * p[0]), size))
    w = int(rng.integers(max(1, d[1] * (kw_ - 1) + 1 - 2 * p[1]), size))
    return (int(rng.integers(1, 3)), c, h, w, o, kh, kw_, s, p, d, g)


@needs_torch
def test_random_shapes(isa):
    rng = np.random.default_rng(3)
    for _ in range(40):
        case = random_case(rng)
        dtype = np.float64 if rng.random() < 0.5 else np.float32
        x, wt, b, kw = make(case, dtype, rng, bias=rng.random() < 0.5)
        np.testing.assert_allclose(npfast.conv2d(x, wt, b, **kw), torch_conv(x, wt, b, kw),
                                   **tol("conv2d", dtype), err_msg=str(case))


@needs_torch
@pytest.mark.filterwarnings("ignore:Using padding=.same.")
@pytest.mark.parametrize("k", [(1, 1), (2, 2), (3, 3), (2, 3), (4, 1)])
@pytest.mark.parametrize("dilation", [1, 2])
def test_padding_strings(k, dilation):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 7, 8))
    w = rng.standard_normal((4, 3) + k)
    for pad in ("same", "valid"):
        got = npfast.conv2d(x, w, padding=pad, dilation=dilation)
        want = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=pad,
                        dilation=dilation).numpy()
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, **tol("conv2d", np.float64))


@needs_torch
def test_non_contiguous_inputs_and_out(isa):
    rng = np.random.default_rng(5)
    base = rng.standard_normal((3, 10, 12, 14)).astype(np.float32)
    wbase = rng.standard_normal((6, 6, 3, 3)).astype(np.float32)
    views = [base[::2, ::2], base.transpose(0, 1, 3, 2)[:, :5], base[:, 1:6, ::-1, 1::2]]
    for x in views:
        w = wbase[:, : x.shape[1]].transpose(0, 1, 3, 2)
        b = rng.standard_normal(12).astype(np.float32)[::2]
        got = npfast.conv2d(x, w, b, padding=1)
        np.testing.assert_allclose(got, torch_conv(x, w, b, dict(padding=1)), **tol("conv2d", np.float32))
        out = np.zeros(got.shape[:3] + (got.shape[3] * 2,), np.float32)[..., ::2]
        assert npfast.conv2d(x, w, b, padding=1, out=out) is out
        np.testing.assert_array_equal(out, got)


@needs_torch
def test_unbatched_and_lists():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 9, 9))
    w = rng.standard_normal((4, 3, 3, 3))
    got = npfast.conv2d(x, w, stride=2)
    assert got.shape == (4, 4, 4)
    np.testing.assert_allclose(got, F.conv2d(torch.from_numpy(x), torch.from_numpy(w),
                                             stride=2).numpy(), **tol("conv2d", np.float64))
    assert npfast.conv2d(x.tolist(), w.tolist()).shape == (4, 7, 7)


@needs_torch
def test_out_argument():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    w = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
    out = np.full((2, 5, 6, 6), 7.0, np.float32)
    assert npfast.conv2d(x, w, out=out) is out
    np.testing.assert_allclose(out, torch_conv(x, w, None, {}), **tol("conv2d", np.float32))
    bad = np.full((2, 5, 6, 6), 7.0, np.float64)
    with pytest.raises(TypeError, match="out"):
        npfast.conv2d(x, w, out=bad)
    bad = np.full((2, 5, 6, 7), 7.0, np.float32)
    with pytest.raises(ValueError, match="out"):
        npfast.conv2d(x, w, out=bad)
    # A refused call writes nothing.
    keep = np.full((2, 5, 6, 6), 7.0, np.float32)
    with pytest.raises(ValueError):
        npfast.conv2d(x, w, groups=2, out=keep)
    with pytest.raises(ValueError):
        npfast.conv2d(x, w, np.zeros(4, np.float32), out=keep)
    assert (keep == 7.0).all()
    y = np.ones((2, 5, 6, 6), np.float32)
    with pytest.raises(ValueError, match="share memory"):
        npfast.conv2d(y, np.ones((5, 5, 1, 1), np.float32), out=y)


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_activation(isa, dtype):
    rng = np.random.default_rng(8)
    for case in CASES[:3] + CASES[4:5] + CASES[7:8] + CASES[9:10]:
        x, w, b, kw = make(case, dtype, rng)
        got = npfast.conv2d(x, w, b, activation="relu", **kw)
        np.testing.assert_allclose(got, np.maximum(torch_conv(x, w, b, kw), 0), **tol("conv2d", dtype))
    x = np.full((1, 1, 3, 3), np.nan, dtype)
    assert np.isnan(npfast.conv2d(x, np.ones((1, 1, 1, 1), dtype), activation="relu")).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_residual(isa, dtype):
    """residual= is `y + residual` after the bias, then the activation: bitwise what the
    separate NumPy passes give, for every algorithm (Winograd fuses it), both layouts, any
    strides of the residual."""
    rng = np.random.default_rng(20)
    for case in CASES + [(3, 16, 30, 30, 16, 3, 3, 1, 1, 1, 1)]:  # Winograd, blocks span images
        x, w, b, kw = make(case, dtype, rng)
        for layout in ("NCHW", "NHWC"):
            xl = x if layout == "NCHW" else np.ascontiguousarray(x.transpose(0, 2, 3, 1))
            y = npfast.conv2d(xl, w, b, **kw, layout=layout)
            r = rng.standard_normal(y.shape).astype(dtype)
            for act in (None, "relu"):
                want = y + r if act is None else np.maximum(y + r, 0)
                for res in (r, np.asfortranarray(r)):
                    got = npfast.conv2d(xl, w, b, **kw, layout=layout, activation=act,
                                        residual=res)
                    np.testing.assert_array_equal(got, want, err_msg=f"{case} {layout} {act}")
    x, w, b, kw = make(CASES[0], np.float32, rng)
    y = npfast.conv2d(x, w, b, **kw)
    with pytest.raises(ValueError, match="residual: shape"):
        npfast.conv2d(x, w, b, **kw, residual=np.zeros(y.shape[:-1] + (1,), np.float32))
    with pytest.raises(TypeError, match="residual"):
        npfast.conv2d(x, w, b, **kw, residual=y.astype(np.float64))
    with pytest.raises(ValueError, match="residual"):
        npfast.conv2d(x, w, b, **kw, residual=y[0])
    with pytest.raises(ValueError, match="share memory"):
        npfast.conv2d(x, w, b, **kw, residual=y, out=y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_residual(isa, dtype):
    """conv2d_backward's residual= is `grad_input + residual` (one rounding per element; equal
    up to the sign of a zero sum), fused or not, for every algorithm, both layouts, any strides
    of the residual; the other gradients are unchanged."""
    rng = np.random.default_rng(21)
    for case in CASES + [(3, 16, 30, 30, 16, 3, 3, 1, 1, 1, 1),   # Winograd grad_input
                         (2, 16, 8, 10, 32, 1, 1, 2, 0, 1, 1)]:  # ResNet's 1x1 stride-2 shortcut
        x, w, _, kw = make(case, dtype, rng, bias=False)
        for layout in ("NCHW", "NHWC"):
            xl = x if layout == "NCHW" else np.ascontiguousarray(x.transpose(0, 2, 3, 1))
            gy = rng.standard_normal(npfast.conv2d(xl, w, **kw, layout=layout).shape).astype(dtype)
            gx, gw, _ = npfast.conv2d_backward(gy, xl, w, **kw, layout=layout,
                                               output_mask=(True, True, False))
            r = rng.standard_normal(xl.shape).astype(dtype)
            for res in (r, np.asfortranarray(r)):
                got, gw2, gb2 = npfast.conv2d_backward(gy, xl, w, **kw, layout=layout,
                                                       output_mask=(True, True, False),
                                                       residual=res)
                np.testing.assert_array_equal(got, gx + r, err_msg=f"{case} {layout}")
                np.testing.assert_array_equal(gw2, gw)
                assert gb2 is None
    x, w, _, kw = make(CASES[0], np.float32, rng)
    gy = np.ones(npfast.conv2d(x, w, **kw).shape, np.float32)
    with pytest.raises(ValueError, match="residual: shape"):
        npfast.conv2d_backward(gy, x, w, **kw, residual=np.zeros(x.shape[:-1] + (1,), np.float32))
    with pytest.raises(TypeError, match="residual"):
        npfast.conv2d_backward(gy, x, w, **kw, residual=x.astype(np.float64))
    with pytest.raises(ValueError, match="residual"):
        npfast.conv2d_backward(gy, x, w, **kw, residual=x[0])
    with pytest.raises(ValueError, match="output_mask"):
        npfast.conv2d_backward(gy, x, w, **kw, residual=x, output_mask=(False, True, True))


def test_threads_bitwise_identical(threads):
    rng = np.random.default_rng(9)
    shapes = [(2, 16, 30, 30, 16, 3, 3, 1, 1, 1, 1), (2, 3, 60, 60, 16, 7, 7, 2, 3, 1, 1),
              (2, 16, 40, 40, 16, 3, 3, 1, 1, 1, 16), (2, 32, 20, 20, 24, 1, 1, 1, 0, 1, 1),
              (1, 8, 21, 21, 8, 3, 3, 2, 1, 1, 1), (2, 8, 9, 9, 6, 3, 3, 1, 1, 1, 1),
              (2, 24, 20, 21, 20, 3, 2, 1, 1, 1, 1),     # implicit GEMM
              (1, 40, 61, 59, 36, 3, 3, 1, 1, 1, 1),     # Winograd, several tile blocks
              # implicit GEMM, stride 2 and dilation: whole (image, row phase) units per item
              # where they split evenly over the threads (4 images; 3 x 2 phases), batches
              # shared by all threads where not (3 images; 1 x 3 phases)
              (3, 16, 23, 22, 40, 3, 3, 2, 1, 1, 1), (4, 16, 23, 22, 40, 3, 3, 2, 1, 1, 1),
              (3, 16, 20, 21, 16, 3, 3, 1, 2, 2, 1), (1, 16, 30, 31, 16, 3, 3, 1, 3, 3, 1),
              (1, 16, 20, 22, 24, 3, 3, 1, 2, 2, 1),     # Winograd on dilation-2 phases
              # the stem, one image: direct convolution in bands of output rows (stem2)
              (1, 3, 224, 223, 64, 7, 7, 2, 3, 1, 1)]
    for case in shapes:
        x, w, b, kw = make(case, np.float32, rng)
        gy = rng.standard_normal(npfast.conv2d(x, w, b, **kw).shape).astype(np.float32)
        results = []
        for n in (1, 2):
            npfast.set_num_threads(n)
            # A NaN result freed first: the pool hands its block to the next output, so an
            # output element the threaded call skips shows as NaN, not as the last call's value.
            npfast.conv2d(np.full_like(x, np.nan), w, b, **kw)
            results.append((npfast.conv2d(x, w, b, **kw),) + npfast.conv2d_backward(gy, x, w, **kw))
        for a, b_ in zip(*results):
            np.testing.assert_array_equal(a, b_)


@pytest.mark.parametrize("hw", [57, 56])
@pytest.mark.parametrize("n", [1, 3])
def test_conv2d_row_parts_along_wide_rows(isa, threads, n, hw):
    """The stride-2 64 -> 128 layer at 57^2 (29 output rows of 29, 30 wide: 870 pixels, whole
    6-row tiles, so wide rows on every ISA) and at 56^2 (28 of 28, 29 wide: AVX2 and scalar tile
    the valid pixels across row ends, compact tiles whose last tile of a part repeats its last
    pixel; AVX-512's 14-row tiles divide 28 and stay on wide rows), cut into row parts
    (row_split) on several threads. Each threaded call comes right after one on a NaN input, so
    a part that misses a halo row reads NaN from its pooled scratch, not a leftover copy of this
    input; bits as on 1 thread."""
    rng = np.random.default_rng(12)
    x, w, b, kw = make((n, 64, hw, hw, 128, 3, 3, 2, 1, 1, 1), np.float32, rng)
    nan = np.full_like(x, np.nan)
    npfast.set_num_threads(1)
    want = npfast.conv2d(x, w, b, **kw)
    _npfast._set_core_cap_for_testing(16)
    try:
        for nt in (2, 3, 4, 7, 16):
            npfast.set_num_threads(nt)
            npfast.conv2d(nan, w, b, **kw)
            np.testing.assert_array_equal(npfast.conv2d(x, w, b, **kw), want, err_msg=f"{nt}")
    finally:
        _npfast._set_core_cap_for_testing(0)


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dilated_winograd(isa, dtype, threads):
    """3x3 dilation 2, padding 2, NCHW, even sizes, >= 16 channels: Winograd on the input's
    2 x 2 phases (the issue's 64->64 @56 layer at batch 1 too); bias, ReLU and a residual
    against torch, the NHWC layout (the implicit GEMM) against it, 1, 2 and 3 threads bitwise."""
    rng = np.random.default_rng(31)
    for n, c, h, w, o in [(1, 64, 56, 56, 64), (3, 17, 8, 20, 16)]:
        x, wt, b, kw = make((n, c, h, w, o, 3, 3, 1, 2, 2, 1), dtype, rng)
        assert _npfast._conv2d_algorithm(x, wt, **kw) == "winograd"
        r = rng.standard_normal((n, o, h, w)).astype(dtype)
        t = F.conv2d(torch.from_numpy(x), torch.from_numpy(wt), torch.from_numpy(b), **kw)
        want = t.numpy()
        want_r = torch.relu(t + torch.from_numpy(r)).numpy()
        got = []
        for nt in (1, 2, 3):
            npfast.set_num_threads(nt)
            got.append((npfast.conv2d(x, wt, b, **kw),
                        npfast.conv2d(x, wt, b, **kw, residual=r, activation="relu")))
        for g in got[1:]:
            np.testing.assert_array_equal(g[0], got[0][0])
            np.testing.assert_array_equal(g[1], got[0][1])
        np.testing.assert_allclose(got[0][0], want, **tol("conv2d", dtype))
        np.testing.assert_allclose(got[0][1], want_r, **tol("conv2d", dtype))
        y_nhwc = npfast.conv2d(np.ascontiguousarray(x.transpose(0, 2, 3, 1)), wt, b, **kw,
                               layout="NHWC")
        np.testing.assert_allclose(y_nhwc.transpose(0, 3, 1, 2), want, **tol("conv2d", dtype))


def autograd(x, w, b, gy, kw):
    tx = torch.from_numpy(x).requires_grad_()
    tw = torch.from_numpy(w).requires_grad_()
    tb = torch.from_numpy(b).requires_grad_()
    F.conv2d(tx, tw, tb, **kw).backward(torch.from_numpy(gy))
    return tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()


@needs_torch
@pytest.mark.parametrize("case", CASES)
def test_backward_matches_autograd_f64(isa, case):
    rng = np.random.default_rng(10)
    x, w, b, kw = make(case, np.float64, rng)
    gy = rng.standard_normal(torch_conv(x, w, b, kw).shape)
    got = npfast.conv2d_backward(gy, x, w, **kw)
    for g, want in zip(got, autograd(x, w, b, gy, kw)):
        assert g.shape == want.shape and g.dtype == np.float64
        np.testing.assert_allclose(g, want, **tol("conv2d_backward", np.float64))


# grad_weight on the implicit GEMM's channels-last copy: one group, no dilation, a batch of at
# least 4 fixed slots (4, 8, 12 images), 16- and 32-channel layers as in the ResNet example,
# strides, rectangular kernels, output counts around the half-width kernel's 16 columns.
IMPLICIT_GRAD_WEIGHT_CASES = [
    (8, 16, 12, 13, 16, 3, 3, 1, 1, 1, 1),
    (4, 16, 11, 9, 32, 3, 3, 2, 1, 1, 1),
    (12, 32, 9, 10, 17, 3, 3, 2, 1, 1, 1),
    (4, 20, 10, 11, 40, 3, 2, (2, 1), (1, 0), 1, 1),
    (8, 17, 7, 8, 8, 2, 3, 1, 0, 1, 1),
]


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", IMPLICIT_GRAD_WEIGHT_CASES)
def test_grad_weight_channels_last_path(isa, dtype, case, threads):
    rng = np.random.default_rng(12)
    x, w, b, kw = make(case, dtype, rng)
    gy = rng.standard_normal(torch_conv(x, w, b, kw).shape).astype(dtype)
    want = autograd(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64),
                    gy.astype(np.float64), kw)[1]
    got = []
    for n in (1, 2):
        npfast.set_num_threads(n)
        got.append(npfast.conv2d_backward(gy, x, w, output_mask=(False, True, False), **kw)[1])
    np.testing.assert_array_equal(got[0], got[1])
    np.testing.assert_allclose(got[0], want, **tol("conv2d_backward", dtype))


@needs_torch
def test_backward_float32_masks_and_unbatched():
    rng = np.random.default_rng(11)
    x, w, b, kw = make(CASES[9], np.float32, rng)
    gy = rng.standard_normal(torch_conv(x, w, b, kw).shape).astype(np.float32)
    want = autograd(x, w, b, gy, kw)
    for mask in [(True, False, False), (False, True, False), (False, False, True)]:
        got = npfast.conv2d_backward(gy, x, w, output_mask=mask, **kw)
        for m, g, ww in zip(mask, got, want):
            if m:
                np.testing.assert_allclose(g, ww, **tol("conv2d_backward", np.float32))
            else:
                assert g is None
    gx, gw, gb = npfast.conv2d_backward(gy[0], x[0], w, **kw)
    assert gx.shape == x.shape[1:]
    np.testing.assert_allclose(gx, npfast.conv2d_backward(gy[:1], x[:1], w, **kw)[0][0])


def test_backward_finite_differences():
    """The gradients are the derivatives of npfast's own forward."""
    rng = np.random.default_rng(12)
    for case in [(1, 2, 5, 6, 3, 3, 2, 2, 1, 1, 1), (1, 4, 6, 5, 4, 3, 3, 1, 1, 2, 2),
                 (1, 3, 5, 5, 3, 3, 3, 1, 1, 1, 3)]:
        x, w, b, kw = make(case, np.float64, rng)
        gy = rng.standard_normal(npfast.conv2d(x, w, b, **kw).shape)
        gx, gw, gb = npfast.conv2d_backward(gy, x, w, **kw)
        loss = lambda x_, w_, b_: float((npfast.conv2d(x_, w_, b_, **kw) * gy).sum())
        eps = 1e-6
        for arr, grad in [(x, gx), (w, gw), (b, gb)]:
            flat = arr.reshape(-1)
            for i in rng.choice(flat.size, size=min(6, flat.size), replace=False):
                old = flat[i]
                flat[i] = old + eps
                up = loss(x, w, b)
                flat[i] = old - eps
                down = loss(x, w, b)
                flat[i] = old
                assert abs((up - down) / (2 * eps) - grad.reshape(-1)[i]) < 1e-5


def test_call_overhead_path_zero_and_empty():
    x = np.zeros((0, 3, 8, 8), np.float32)
    w = np.ones((4, 3, 3, 3), np.float32)
    assert npfast.conv2d(x, w).shape == (0, 4, 6, 6)
    gx, gw, gb = npfast.conv2d_backward(np.zeros((0, 4, 6, 6), np.float32), x, w)
    assert gx.shape == x.shape and (gw == 0).all() and (gb == 0).all()
    w0 = np.ones((0, 3, 3, 3), np.float32)
    assert npfast.conv2d(np.ones((1, 3, 8, 8), np.float32), w0).shape == (1, 0, 6, 6)


BAD = [
    (dict(x=(2, 3, 8, 8), w=(4, 2, 3, 3)), ValueError, "weight"),
    (dict(x=(2, 4, 8, 8), w=(4, 2, 3, 3), groups=3), ValueError, "groups"),
    (dict(x=(2, 4, 8, 8), w=(3, 2, 3, 3), groups=2), ValueError, "groups"),
    (dict(x=(2, 3, 8, 8), w=(4, 3, 3, 3), groups=0), ValueError, "groups"),
    (dict(x=(2, 3, 8, 8), w=(4, 3, 3, 3), stride=0), ValueError, "stride"),
    (dict(x=(2, 3, 8, 8), w=(4, 3, 3, 3), stride=(1, -1)), ValueError, "stride"),
    (dict(x=(2, 3, 8, 8), w=(4, 3, 3, 3), dilation=0), ValueError, "dilation"),
    (dict(x=(2, 3, 8, 8), w=(4, 3, 3, 3), padding=-1), ValueError, "padding"),
    (dict(x=(2, 3, 8, 8), w=(4, 3, 3, 3), padding="full"), ValueError, "padding"),
    (dict(x=(2, 3, 8, 8), w=(4, 3, 3, 3), padding="same", stride=2), ValueError, "padding"),
    (dict(x=(2, 3, 8, 8), w=(4, 3, 3, 3), padding=(1, 2, 3)), ValueError, "padding"),
    (dict(x=(2, 3, 8, 8), w=(4, 3, 3, 3), padding=1.5), TypeError, "padding"),
    (dict(x=(2, 3, 8, 8), w=(4, 3, 3, 3), stride="2"), TypeError, "stride"),
    (dict(x=(2, 3, 2, 8), w=(4, 3, 3, 3)), ValueError, "larger than the padded input"),
    (dict(x=(2, 3, 8, 8), w=(4, 3, 3, 3), dilation=4), ValueError, "larger than the padded"),
    (dict(x=(2, 3, 8, 8), w=(4, 3, 3, 3), b=(3,)), ValueError, "bias"),
    (dict(x=(2, 3, 8, 8), w=(4, 3, 3, 3), b=(4, 1)), ValueError, "bias"),
    (dict(x=(3, 8, 8, 1, 1), w=(4, 3, 3, 3)), ValueError, "input"),
    (dict(x=(8, 8), w=(4, 3, 3, 3)), ValueError, "input"),
    (dict(x=(2, 3, 8, 8), w=(4, 3, 3)), ValueError, "weight"),
    (dict(x=(2, 3, 8, 8), w=(4, 3, 3, 3), activation="tanh"), ValueError, "activation"),
]


@pytest.mark.parametrize("spec,exc,msg", BAD)
def test_errors(spec, exc, msg):
    spec = dict(spec)
    x = np.ones(spec.pop("x"), np.float32)
    w = np.ones(spec.pop("w"), np.float32)
    b = spec.pop("b", None)
    b = None if b is None else np.ones(b, np.float32)
    with pytest.raises(exc, match=msg):
        npfast.conv2d(x, w, b, **spec)
    if "activation" not in spec and b is None and x.ndim == 4 and w.ndim == 4:
        with pytest.raises(exc, match=msg):
            npfast.conv2d_backward(np.ones((2, 4, 6, 6), np.float32), x, w, **spec)


def test_numpy_integer_arguments():
    x = np.ones((1, 4, 8, 8))
    w = np.ones((4, 2, 3, 3))
    got = npfast.conv2d(x, w, stride=np.int64(2), padding=(np.int32(1), 1), groups=np.int64(2))
    assert got.shape == (1, 4, 4, 4)
    with pytest.raises(TypeError, match="stride"):
        npfast.conv2d(x, w, stride=True)
    with pytest.raises(TypeError, match="groups"):
        npfast.conv2d(x, w, groups=2.0)
    with pytest.raises(TypeError, match="groups"):
        npfast.conv2d(x, w, groups=(2,))


def test_dtype_errors():
    x = np.ones((1, 3, 8, 8), np.float32)
    w = np.ones((4, 3, 3, 3), np.float32)
    with pytest.raises(TypeError, match="weight"):
        npfast.conv2d(x, w.astype(np.float64))
    with pytest.raises(TypeError, match="bias"):
        npfast.conv2d(x, w, np.ones(4, np.float64))
    with pytest.raises(TypeError, match="input"):
        npfast.conv2d(x.astype(np.int32), w.astype(np.int32))
    with pytest.raises(TypeError, match="input"):
        npfast.conv2d(None, w)
    with pytest.raises(TypeError, match="grad_output"):
        npfast.conv2d_backward(np.ones((1, 4, 6, 6)), x, w)
    with pytest.raises(ValueError, match="grad_output"):
        npfast.conv2d_backward(np.ones((1, 4, 6, 5), np.float32), x, w)
    with pytest.raises(ValueError, match="output_mask"):
        npfast.conv2d_backward(np.ones((1, 4, 6, 6), np.float32), x, w, output_mask=(True,))
    # Each item a bool, as torch's bool[3] (probe21c: truthiness took strings, None, floats);
    # a bool array of 3 is 3 bools.
    gy = np.ones((1, 4, 6, 6), np.float32)
    for mask, bad in ((("a", "b", "c"), "'a'"), ((True, None, True), "None"),
                      ((True, False, 1.5), "1.5"), ([1, 0, 1], "1")):
        i = next(j for j, v in enumerate(mask) if not isinstance(v, bool))
        with pytest.raises(TypeError, match=rf"output_mask\[{i}\]: expected a bool, got {bad}"):
            npfast.conv2d_backward(gy, x, w, output_mask=mask)
    gi, gw, gb = npfast.conv2d_backward(gy, x, w, output_mask=np.array([True, False, True]))
    assert gw is None and gi is not None and gb is not None


@needs_torch
def test_concurrent_callers_share_the_plan_cache():
    """Many Python threads, more shapes than the cache holds: results stay right."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(13)
    problems = []
    for i in range(24):
        case = (1, 3 + i % 5, 8 + i, 9, 4, 3, 3, 1 + i % 2, 1, 1, 1)
        x, w, b, kw = make(case, np.float64, rng)
        problems.append((x, w, b, kw, torch_conv(x, w, b, kw)))

    def work(k):
        x, w, b, kw, want = problems[k % len(problems)]
        np.testing.assert_allclose(npfast.conv2d(x, w, b, **kw), want, **tol("conv2d", np.float64))

    with ThreadPoolExecutor(4) as ex:
        list(ex.map(work, range(200)))


def test_repeated_calls_are_stable():
    rng = np.random.default_rng(14)
    x, w, b, kw = make(CASES[1], np.float32, rng)
    first = npfast.conv2d(x, w, b, **kw)
    for _ in range(20):
        np.testing.assert_array_equal(npfast.conv2d(x, w, b, **kw), first)


@needs_torch
def test_workspace_batching(threads):
    """With a tiny workspace bound the direct, shifted, implicit and Winograd paths (and the
    dilated Winograd's phase copies) go image by image."""
    rng = np.random.default_rng(15)
    before = _npfast._conv2d_workspace_limit(1)
    try:
        for case in [(3, 3, 11, 12, 5, 3, 3, 2, 1, 1, 1), (3, 10, 9, 8, 6, 3, 3, 1, 1, 1, 2),
                     (3, 8, 13, 14, 6, 3, 3, 2, 1, 1, 1),
                     (3, 128, 5, 6, 4, 3, 3, 1, 1, 1, 1), (3, 16, 9, 10, 16, 3, 3, 1, 1, 1, 1),
                     (3, 16, 11, 12, 8, 3, 3, 2, 1, 1, 1), (3, 16, 11, 12, 8, 3, 3, 1, 2, 2, 1),
                     (3, 16, 8, 16, 16, 3, 3, 1, 2, 2, 1)]:  # Winograd on dilation-2 phases
            x, w, b, kw = make(case, np.float64, rng)
            gy = rng.standard_normal(torch_conv(x, w, b, kw).shape)
            np.testing.assert_allclose(npfast.conv2d(x, w, b, **kw), torch_conv(x, w, b, kw),
                                       **tol("conv2d", np.float64))
            for g, want in zip(npfast.conv2d_backward(gy, x, w, **kw), autograd(x, w, b, gy, kw)):
                np.testing.assert_allclose(g, want, **tol("conv2d_backward", np.float64))
            results = []
            for n in (1, 2):
                npfast.set_num_threads(n)
                results.append(npfast.conv2d_backward(gy, x, w, **kw))
            for a, b_ in zip(*results):
                np.testing.assert_array_equal(a, b_)
    finally:
        _npfast._conv2d_workspace_limit(before)
