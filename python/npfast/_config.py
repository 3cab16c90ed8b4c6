"""npfast.config() / npfast.show_config(): what was built and what runs."""

from __future__ import annotations

from . import _npfast


def config() -> dict:
    """Return npfast's build and run-time configuration.

    Keys: ``version``, ``isa`` (the instruction set kernels use now: "avx512", "avx2" or
    "scalar"; capped by the environment variable ``NPFAST_ISA``), ``isas_available`` (what this
    CPU supports), ``num_threads``, ``usable_cores``, ``compiler``, ``build_type``, ``l3_cache_bytes``
    (the last-level cache a core shares, from CPUID; 0 if unknown), the memory pool's
    settings ``pool_limit`` (bytes; ``NPFAST_POOL_LIMIT``), ``pool_decay_ms``
    (``NPFAST_POOL_DECAY_MS``) and ``pool_hugepages`` (``NPFAST_POOL_HUGEPAGES``), and
    ``kernels`` (the kernel each operator dispatches to now).
    """
    info = dict(_npfast._build_info())
    info["isa"] = _npfast._isa()
    info["isas_available"] = list(_npfast._isas_available())
    info["num_threads"] = _npfast.get_num_threads()
    info["usable_cores"] = _npfast.usable_cores()
    info["pool_limit"] = _npfast._pool_limit()
    info["pool_decay_ms"] = _npfast._pool_decay_ms()
    info["pool_hugepages"] = _npfast._pool_hugepages()
    info["kernels"] = dict(_npfast._kernel_names())
    return info


def show_config() -> None:
    """Print :func:`config` one key per line (the ISA in use, threads, compiler, kernels)."""
    for key, value in config().items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"  {k}: {v}")
        else:
            print(f"{key}: {value}")
