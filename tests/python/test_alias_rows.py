"""Streamed outputs at the 4 KiB alias of their input (src/ops/alias_rows.h, docs/ndimage-speed.md
"alias26"): rows made in a scratch and streamed out give the bits of an output placed clear of
the alias, and the scratch is used exactly where the rule says. The rule itself is tested on
synthetic addresses (C++ AliasRows.RuleMatchesTheMeasuredDistances)."""

import numpy as np
import pytest

import npfast
from npfast import _npfast, ndimage

# 32 MiB of float32: streamed on every machine (outputs stream from half the L3, at most 32 MiB);
# rows of two whole pages, so every row pair lies at the output's distance from the input.
H, W = 4096, 2048
K = np.array([[1, 2, -1], [0, 3, 1], [-2, 1, 4]], np.float32)

CASES = {
    "sobel": lambda x, o: ndimage.sobel(x, output=o),  # along rows: sep3_rows
    "prewitt": lambda x, o: ndimage.prewitt(x, axis=-1, output=o, mode="wrap"),
    "uniform_filter": lambda x, o: ndimage.uniform_filter(x, 5, output=o),
    "uniform_filter_origin": lambda x, o: ndimage.uniform_filter(x, 5, output=o, origin=(1, -2)),
    "correlate": lambda x, o: ndimage.correlate(x, K, output=o),
    "correlate2d": lambda x, o: npfast.correlate2d(x, K, mode="same", out=o),
    "maximum_filter": lambda x, o: ndimage.maximum_filter(x, 5, output=o),
    "minimum_filter": lambda x, o: ndimage.minimum_filter(x, 3, output=o, mode="constant"),
}
# The minimum / maximum filters store plainly there instead of through a scratch.
PLAIN = {"maximum_filter", "minimum_filter"}


@pytest.fixture(scope="module")
def image():
    """An input at page offset 16 (where np.empty puts a large array), and room for outputs at
    any distance from it."""
    buf = np.empty(H * W * 4 + 8192, np.uint8)
    start = (-buf.ctypes.data) % 4096 + 16
    x = buf[start:start + H * W * 4].view(np.float32).reshape(H, W)
    x[...] = np.random.default_rng(26).standard_normal((H, W), dtype=np.float32)
    return x, np.empty(H * W * 4 + 8192, np.uint8)


@pytest.mark.parametrize("name", sorted(CASES))
def test_outputs_at_the_alias_give_the_same_bits(threads, isa, image, name):
    x, obuf = image
    call = CASES[name]
    for t in (1, 2):
        npfast.set_num_threads(t)
        want = None
        for d in (2048, 0, 64, 192, 320, -64, -192, 1024):  # output - input, modulo 4 KiB
            at = (x.ctypes.data + d - obuf.ctypes.data) % 4096
            o = obuf[at:at + H * W * 4].view(np.float32).reshape(H, W)
            o[...] = np.nan
            before = _npfast._aliased_rows()
            call(x, o)
            rows = _npfast._aliased_rows() - before
            aliased = -64 <= d <= 320  # rows of whole pages: every pair at d
            assert rows == (H if aliased and name not in PLAIN else 0), (d, t)
            if want is None:
                want = o.copy()  # d = 2048: clear of the alias, streamed in place
                new = call(x, None)
                np.testing.assert_array_equal(want, new, err_msg=f"new output, threads {t}")
            else:
                np.testing.assert_array_equal(o, want, err_msg=f"distance {d}, threads {t}")
