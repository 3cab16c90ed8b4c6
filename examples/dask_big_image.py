"""Filter an image bigger than one task with npfast on a Dask cluster.

A 20000 x 20000 float32 image (1.6 GB) is made on the workers in 4000 x 4000 chunks, smoothed
with a 5 x 5 filter by ``npfast.dask.correlate2d(mode="same", boundary="symm")`` (halos
exchanged between neighbouring chunks, SciPy's edge handling at the image's edges) and compared,
in time and in value, with one in-process ``npfast.correlate2d`` call on the whole image:

    PYTHONPATH=build/dev/python python examples/dask_big_image.py             # 20000^2, ~8 GB RAM
    PYTHONPATH=build/dev/python python examples/dask_big_image.py --size 6000 # a smaller run

The same code runs on many machines: start a scheduler and workers there,

    dask scheduler                                   # on one machine: tcp://scheduler:8786
    NPFAST_DASK_THREADS=8 dask worker tcp://scheduler:8786 --nworkers 1 --nthreads 1
                                                     # on each machine (npfast installed)

and connect to it instead of starting a LocalCluster (``--address tcp://scheduler:8786`` here):

    from dask.distributed import Client
    import dask.array as da
    import npfast.dask

    client = Client("tcp://scheduler:8786")
    image = da.random.default_rng(0).random((20000, 20000), dtype="float32",
                                            chunks=(4000, 4000))
    smooth = npfast.dask.correlate2d(image, kernel, mode="same", boundary="symm")
    smooth.to_zarr("smooth.zarr")          # or .persist(), .compute(), ...

Each task runs npfast with ``cores // (task slots on its host)`` threads unless
``NPFAST_DASK_THREADS`` (on the worker) or ``threads=`` says otherwise (docs/dask.md).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=20000, help="image side (default 20000)")
    ap.add_argument("--chunk", type=int, default=4000, help="chunk side (default 4000)")
    ap.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    ap.add_argument("--ksize", type=int, default=5, help="filter side (default 5)")
    ap.add_argument("--address", default=None,
                    help="an existing scheduler, e.g. tcp://scheduler:8786 (no LocalCluster)")
    args = ap.parse_args()

    import dask.array as da
    from dask.distributed import Client, LocalCluster, wait

    import npfast
    import npfast.dask

    n, c, k = args.size, args.chunk, args.ksize
    kernel = np.full((k, k), 1.0 / (k * k), np.float32)
    if args.address:
        client, cluster = Client(args.address), None
    else:
        # Workers import npfast from this process's path (a development build included).
        here = os.path.dirname(os.path.dirname(os.path.abspath(npfast.__file__)))
        os.environ["PYTHONPATH"] = os.pathsep.join(
            p for p in (here, os.environ.get("PYTHONPATH")) if p)
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               dashboard_address=":0")
        client = Client(cluster)
    info = client.scheduler_info(n_workers=-1)["workers"]
    slots = sum(w["nthreads"] for w in info.values())
    print(f"image {n} x {n} float32 ({n * n * 4 / 1e9:.2f} GB) in {c} x {c} chunks, "
          f"{k} x {k} filter; {len(info)} workers, {slots} task slots")

    image = da.random.default_rng(0).random((n, n), dtype=np.float32, chunks=(c, c))
    image = client.persist(image)
    wait(image)

    # Warm-up: the workers' first call imports and starts npfast (not part of the timing).
    warm = da.zeros((64, 64 * slots), np.float32, chunks=64)
    npfast.dask.correlate2d(warm, kernel, mode="same").compute()

    # Two runs: the first also pays the workers' first touch of their output memory.
    t_runs = []
    smooth = None
    for _ in range(2):
        del smooth  # same graph, same keys: the cluster must not still hold the last result
        smooth = npfast.dask.correlate2d(image, kernel, mode="same", boundary="symm")
        t0 = time.perf_counter()
        smooth = client.persist(smooth)
        wait(smooth)
        t_runs.append(time.perf_counter() - t0)
    t_dask = t_runs[-1]

    local = image.compute()  # the same image, in this process
    t0 = time.perf_counter()
    ref = npfast.correlate2d(local, kernel, mode="same", boundary="symm")
    t_one = time.perf_counter() - t0

    # Values across a chunk corner (halos from four chunks) and at the image's corner.
    r = min(c, n - 8)
    for sl in [np.s_[r - 8:r + 8, r - 8:r + 8], np.s_[:8, :8], np.s_[-8:, -8:]]:
        got = smooth[sl].compute()
        np.testing.assert_allclose(got, ref[sl], rtol=1e-6, atol=1e-6)

    mpix = n * n / 1e6
    print(f"dask cluster, first run: {t_runs[0]:.2f} s")
    print(f"dask cluster:       {t_dask:7.2f} s  {mpix / t_dask:8.1f} Mpixel/s  "
          f"{2 * n * n * 4 / t_dask / 1e9:6.2f} GB/s")
    print(f"one npfast call:    {t_one:7.2f} s  {mpix / t_one:8.1f} Mpixel/s  "
          f"({npfast.get_num_threads()} threads)")
    print(f"cluster / single-process throughput: {t_one / t_dask:.2f}x; values agree "
          "(chunk corner, image corners)")
    client.close()
    if cluster is not None:
        cluster.close()


if __name__ == "__main__":
    main()
