"""The benchmark report behind ``python -m npfast bench``.

One module per section; each has ``TITLE``, ``NAME`` and ``run(ctx) -> Section``. Anchors
(NumPy, SciPy, PyTorch, OpenCV) are timed in the same run, interleaved with npfast; a missing
kernel or anchor is reported as skipped with the reason, never faked.
"""
