"""Leaks: resident memory stays flat over 10^5 calls of every public op (tiny inputs, so the
calls are fast and any per-call leak shows)."""

import pytest

from test_contract import GOOD

CALLS = 100_000


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(GOOD))
def test_rss_flat(name):
    fn, args, kwargs = GOOD[name]
    for _ in range(2000):  # warm the pool and any plan caches
        fn(*args, **kwargs)
    before = rss_bytes()
    for _ in range(CALLS):
        fn(*args, **kwargs)
    grown = rss_bytes() - before
    # One byte leaked per call would already show as 100 kB; allow allocator noise.
    assert grown < 4 << 20, f"{name}: RSS grew {grown / 1e6:.1f} MB over {CALLS} calls"
