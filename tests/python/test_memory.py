"""npfast.memory: the NEP 49 hook (install/uninstall, arrays crossing the boundary, threads),
stats, trim, limit; page faults and RSS stay flat under the hook."""

import gc
import os
import resource
import subprocess
import sys
import threading

import numpy as np
import pytest

import npfast
from npfast import memory

KEYS = {"bytes_in_use", "bytes_cached", "bytes_reserved", "hits", "misses", "os_allocs", "os_frees"}


@pytest.fixture(autouse=True)
def no_hook_leak():
    """Every test starts and ends with NumPy's default handler."""
    memory.uninstall()
    assert memory.handler_name() == "default_allocator"
    yield
    memory.uninstall()
    assert not memory.is_installed()


def minflt():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_stats_keys_and_types():
    s = memory.stats()
    assert set(s) == KEYS
    assert all(isinstance(v, int) for v in s.values())
    assert s["bytes_reserved"] >= s["bytes_cached"] >= 0


def test_context_manager_installs_and_restores():
    with memory.numpy_pool():
        assert memory.is_installed()
        assert np._core.multiarray.get_handler_name() == "npfast_pool"
        with memory.numpy_pool():  # nests
            assert memory.is_installed()
        assert memory.is_installed()
    assert memory.handler_name() == "default_allocator"
    with pytest.raises(RuntimeError, match="__exit__ without a matching __enter__"):
        memory.numpy_pool().__exit__(None, None, None)  # probe22d: a bare IndexError
    assert memory.handler_name() == "default_allocator"


def test_install_uninstall_idempotent():
    memory.install()
    memory.install()
    assert memory.is_installed()
    memory.uninstall()
    assert memory.handler_name() == "default_allocator"
    memory.uninstall()
    assert memory.handler_name() == "default_allocator"


def test_numpy_allocations_come_from_the_pool():
    before = memory.stats()
    with memory.numpy_pool():
        a = np.ones(100_000)
        during = memory.stats()
        assert memory._npfast._owns(a)
    assert during["bytes_in_use"] >= before["bytes_in_use"] + a.nbytes
    b = np.ones(100_000)
    assert not memory._npfast._owns(b)


def test_arrays_cross_the_boundary():
    # Allocated under the hook, freed after it: goes back to the pool.
    with memory.numpy_pool():
        a = np.arange(1_000_000, dtype=np.float64)
        view = a[::3]
    in_use = memory.stats()["bytes_in_use"]
    del a  # the view keeps the buffer alive
    assert view[5] == 15.0
    assert memory.stats()["bytes_in_use"] == in_use
    del view
    assert memory.stats()["bytes_in_use"] <= in_use - 8_000_000
    # Allocated before the hook, freed under it: goes back to NumPy's allocator.
    b = np.arange(1_000_000, dtype=np.float64)
    with memory.numpy_pool():
        in_use = memory.stats()["bytes_in_use"]
        del b
        gc.collect()
        assert memory.stats()["bytes_in_use"] == in_use


def test_empty_and_tiny_arrays_under_hook():
    # NumPy reports a free size different from the allocation for empty arrays.
    with memory.numpy_pool():
        arrays = [np.empty(0), np.empty((0, 5)), np.zeros(0, np.uint8), np.array(3.0), np.empty(1)]
    del arrays
    with memory.numpy_pool():
        e = np.empty((3, 0))
    del e


def test_calloc_clears_warm_blocks():
    for n in [1000, 100_000, 1_000_000]:  # thread cache, central, streaming clear
        with memory.numpy_pool():
            dirty = np.full(n, 7.0)
            del dirty
            hits = memory.stats()["hits"]
            z = np.zeros(n)
            assert memory.stats()["hits"] == hits + 1  # the dirty block came back
            assert not z.any()
            del z


def test_realloc_preserves_data():
    with memory.numpy_pool():
        a = np.arange(10, dtype=np.int64)
        a.resize(100_000, refcheck=False)  # PyDataMem_UserRENEW
        assert a[:10].tolist() == list(range(10)) and not a[10:].any()
        a.resize(5, refcheck=False)
        assert a.tolist() == [0, 1, 2, 3, 4]
        it = np.fromiter(range(50_000), dtype=np.float64)  # grows by realloc
        assert it[-1] == 49_999.0


def test_threads_do_not_inherit_the_hook():
    seen = {}

    def worker():
        seen["plain"] = memory.handler_name()
        with memory.numpy_pool():
            seen["inside"] = memory.handler_name()
            seen["array"] = np.ones(50_000)

    with memory.numpy_pool():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert seen["plain"] == "default_allocator"  # documented caveat
    assert seen["inside"] == "npfast_pool"
    assert memory._npfast._owns(seen["array"])
    del seen["array"]  # freed on this thread, allocated on the exited one


def test_arrays_freed_on_other_threads():
    with memory.numpy_pool():
        arrays = [np.ones(n) for n in (10, 1000, 100_000, 2_000_000)]
    in_use = memory.stats()["bytes_in_use"]
    t = threading.Thread(target=arrays.clear)
    t.start()
    t.join()
    assert memory.stats()["bytes_in_use"] < in_use - 16_000_000


def test_trim_and_limit():
    with memory.numpy_pool():
        a = np.ones(3_000_000)
        del a
    assert memory.stats()["bytes_cached"] >= 24_000_000
    before = memory.stats()
    memory.trim()
    after = memory.stats()
    # trim() empties the shared cache and this thread's; other threads (npfast's workers,
    # earlier tests' threads) flush their small-block caches at their next allocation.
    assert after["bytes_cached"] <= before["bytes_cached"] - 24_000_000
    # What is left belongs to other live threads' small-block caches (up to 4 MiB each: in a
    # long test session npfast's workers hold some); a fresh process shows trim() empties the
    # rest (test_trim_in_a_fresh_process).
    assert after["os_frees"] > before["os_frees"]
    assert after["bytes_reserved"] < before["bytes_reserved"]
    saved = memory.limit()
    try:
        memory.set_limit(1 << 20)
        assert memory.limit() == 1 << 20
        with memory.numpy_pool():
            b = np.ones(1_000_000)
            del b
        # The cap holds the shared cache; other threads' small-block leftovers (counted in
        # `after`) are not this call's to flush. b's 8 MB block must not have been kept.
        assert memory.stats()["bytes_cached"] <= (1 << 20) + after["bytes_cached"]
        with pytest.raises(ValueError, match="nbytes: must be >= 0, got -1"):
            memory.set_limit(-1)
        with pytest.raises(ValueError, match="nbytes: out of the int64 range"):
            memory.set_limit(2**70)
        for bad in ("1G", 1.5, True, None):
            with pytest.raises(TypeError, match="nbytes: expected an int"):
                memory.set_limit(bad)
        memory.set_limit(np.int64(1 << 21))
        assert memory.limit() == 1 << 21
    finally:
        memory.set_limit(saved)


def test_trim_in_a_fresh_process():
    # No other thread has touched the pool here, so after trim() (almost) nothing is cached.
    code = ("import numpy as np\nfrom npfast import memory\n"
            "with memory.numpy_pool():\n    a = np.ones(3_000_000)\n    del a\n"
            "memory.trim()\nprint(memory.stats()['bytes_cached'])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert int(out) < 4 << 20


def test_hot_loop_has_no_page_faults():
    a = np.random.default_rng(0).integers(0, 256, (1000, 1000), dtype=np.uint8)

    def step():
        t = a.astype(np.float64)
        return t / 255.0

    with memory.numpy_pool():
        for _ in range(3):
            r = step()
        s0, f0 = memory.stats(), minflt()
        for _ in range(30):
            r = step()
        faults = minflt() - f0
        s1 = memory.stats()
    assert faults < 30, faults  # vs ~4000 per iteration when each 8 MB block is fresh
    assert s1["os_allocs"] == s0["os_allocs"]
    np.testing.assert_array_equal(r, a / 255.0)


def test_temporary_spelling_keeps_each_buffer_in_its_role():
    # `t = a.astype(f64); t / 255` frees t before the result; the pool hands the two big blocks
    # back in allocation order, so t and the result get the same block as the call before (LIFO
    # swapped them every call, ~4-5 % slower: docs/memory.md, zeros4).
    a = np.random.default_rng(0).integers(0, 256, (1000, 1000), dtype=np.uint8)

    def step():
        t = a.astype(np.float64)
        r = t / 255.0
        return t.ctypes.data, r.ctypes.data

    with memory.numpy_pool():
        step()
        roles = [step() for _ in range(4)]
    assert len(set(roles)) == 1, roles
    assert roles[0][0] != roles[0][1]


def test_rss_flat_over_many_cycles():
    # np.empty's garbage may hold NaNs: their sums' warnings are not this test's subject.
    with memory.numpy_pool(), np.errstate(all="ignore"):
        for i in range(2000):  # warm up: the same sizes as below
            x = np.empty(16 + (i & 255))
            y = x + 1.0
            del x, y
        gc.collect()
        rss0 = rss_bytes()
        s0 = memory.stats()
        for i in range(100_000):
            x = np.empty(16 + (i & 255))
            y = x + 1.0
            del x, y
            if i % 10_000 == 0:
                big = np.ones(300_000)
                del big
        rss1 = rss_bytes()
        s1 = memory.stats()
    assert rss1 - rss0 < 8 << 20, (rss0, rss1)
    assert s1["bytes_in_use"] == s0["bytes_in_use"]
    assert s1["os_allocs"] - s0["os_allocs"] < 20


def test_fork_child_can_allocate():
    import multiprocessing as mp

    if "fork" not in mp.get_all_start_methods():
        pytest.skip("no fork on this platform")
    stop = threading.Event()

    def churn():  # another thread using the pool while we fork
        while not stop.is_set():
            npfast.empty(1000)
            npfast.zeros(300_000)

    t = threading.Thread(target=churn)
    t.start()
    try:
        ctx = mp.get_context("fork")
        for _ in range(3):
            with ctx.Pool(1) as p:
                assert p.apply(_child_work) == 0.0
    finally:
        stop.set()
        t.join()


def _child_work():
    with memory.numpy_pool():
        a = np.ones(500_000)
        b = npfast.zeros(400_000)
        return float((a - 1).sum() + b.sum())


def test_impossible_sizes_under_hook_raise_memory_error():
    with memory.numpy_pool():
        with pytest.raises(MemoryError):
            np.empty(2**50, np.uint8)  # the OS refuses a PiB
        with pytest.raises(MemoryError):
            np.zeros(2**47)  # calloc path
        ok = np.ones(10)  # the pool still works afterwards
    assert ok.sum() == 10


@pytest.mark.parametrize("make, shape, dtype", [
    (npfast.empty, 2**62, np.bool_),    # past the pool's largest request
    (npfast.zeros, 2**47, np.float64),  # 1 PiB: past the 128 TiB address space, whatever
    (npfast.empty, (2**20, 2**20, 2**10), np.uint8),  # the overcommit setting
])
def test_impossible_sizes_name_the_shape(make, shape, dtype):
    # The message names the caller's shape and dtype (as NumPy's), not the pool's function.
    with pytest.raises(MemoryError, match=r"^shape: cannot allocate \d+ bytes") as e:
        make(shape, dtype)
    msg = str(e.value)
    assert repr(shape) in msg and np.dtype(dtype).name in msg and "allocate:" not in msg
    assert make(4, dtype).shape == (4,)  # the pool still works afterwards


def _python(code, **env):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env})


def test_pool_variables_out_of_range_are_said():
    """probe19e: NPFAST_POOL_LIMIT=-1 became 2^64 - 1 (which set_limit refuses), an overflowing
    G a limit of 0, 10^23 2^64 - 1, all silently; NPFAST_POOL_HUGEPAGES took any value as on."""
    default = _python("from npfast import memory; print(memory.limit())",
                      NPFAST_POOL_LIMIT="").stdout
    for bad in ("-1", "17179869184G", "99999999999999999999999", "9223372036854775808", "abc",
                "5 M", "1.5G", " "):
        out = _python("from npfast import memory; print(memory.limit())", NPFAST_POOL_LIMIT=bad)
        assert out.stdout == default, bad
        assert f"ignoring NPFAST_POOL_LIMIT={bad}" in out.stderr
    # Spaces around the value are taken, as NPFAST_NUM_THREADS takes them (probe23b).
    for good, want in (("512M", 512 << 20), ("9223372036854775807", (1 << 63) - 1), ("2K", 2048),
                       (" 5", 5), ("2K ", 2048)):
        out = _python("from npfast import memory; m = memory.limit(); memory.set_limit(m); "
                      "print(m)", NPFAST_POOL_LIMIT=good)
        assert out.returncode == 0 and int(out.stdout) == want and out.stderr == ""
    for value, said in (("0", False), ("1", False), ("yes", True), ("2", True)):
        out = _python("import npfast; npfast.zeros((3000, 3000))", NPFAST_POOL_HUGEPAGES=value)
        assert out.returncode == 0
        assert ("ignoring NPFAST_POOL_HUGEPAGES" in out.stderr) == said, value


def test_config_shows_the_pool_settings_and_tune_is_said():
    """probe20c: the pool's settings were not in config(); NPFAST_TUNE took any value silently."""
    code = ("import npfast; c = npfast.config(); "
            "print(c['pool_limit'], c['pool_decay_ms'], c['pool_hugepages'])")
    out = _python(code, NPFAST_POOL_LIMIT="3M", NPFAST_POOL_DECAY_MS="250",
                  NPFAST_POOL_HUGEPAGES="0")
    assert out.returncode == 0 and out.stdout.split() == [str(3 << 20), "250", "False"]
    out = _python(code, NPFAST_POOL_HUGEPAGES="2")  # said at config(), not at a first big block
    assert out.stdout.split()[2] == "True" and "ignoring NPFAST_POOL_HUGEPAGES=2" in out.stderr
    out = _python("import numpy as np, npfast; "
                  "npfast.ndimage.gaussian_filter(np.ones((64, 64), np.float32), 2)",
                  NPFAST_TUNE="bogus")
    assert out.returncode == 0 and "ignoring NPFAST_TUNE=bogus" in out.stderr


def test_uninstall_inside_numpy_pool_keeps_the_blocks_pool():
    """install() inside a numpy_pool() block replaced the pool with the pool: uninstall() then
    restores the pool (it fell back to NumPy's default for the rest of the block, probe19e);
    install() twice and uninstall() once still uninstall."""
    before = memory.handler_name()
    with memory.numpy_pool():
        memory.install()
        memory.uninstall()
        assert memory.is_installed()
    assert memory.handler_name() == before
    memory.install()
    memory.install()
    memory.uninstall()
    assert memory.handler_name() == before


def test_tracemalloc_sees_pool_arrays():
    """probe21e: tracemalloc missed npfast.zeros / empty and the operators' pool-backed
    results; they are traced in NumPy's domain now, and untraced when freed."""
    import tracemalloc

    x = np.ones((300, 300), np.float32)
    calls = [lambda: npfast.zeros(100000), lambda: npfast.empty(100000),
             lambda: npfast.convert(x, np.float64), lambda: npfast.ndimage.gaussian_filter(x, 2)]
    tracemalloc.start()
    try:
        for call in calls:
            before = tracemalloc.get_traced_memory()[0]
            r = call()
            assert tracemalloc.get_traced_memory()[0] - before >= r.nbytes
            domain = tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.DomainFilter(True, np.lib.tracemalloc_domain)])
            assert sum(t.size for t in domain.traces) >= r.nbytes
            del r, domain
            assert tracemalloc.get_traced_memory()[0] - before < 4096
    finally:
        tracemalloc.stop()


def test_ndimage_memory_errors_name_the_output():
    """probe21e: an ndimage result past memory named npfast.empty's `shape`."""
    # Past the pool's cap (2^52 bytes): refused before any mapping (overcommit could grant less).
    big = np.broadcast_to(np.float32(1), (2**26, 2**25))
    for f in (npfast.ndimage.gaussian_filter, npfast.ndimage.uniform_filter):
        with pytest.raises(MemoryError, match="^output: cannot allocate 9007199254740992 bytes"):
            f(big, 2)
