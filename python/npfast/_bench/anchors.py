"""Optional anchors: import what is installed, say why something is missing."""

from __future__ import annotations

import importlib

import npfast


def optional(module: str):
    try:
        return importlib.import_module(module), ""
    except Exception as exc:
        return None, f"{module} not installed ({type(exc).__name__})"


def npfast_has(*names: str) -> str:
    """'' when npfast has every function named (dotted names allowed), else why not."""
    for name in names:
        obj = npfast
        for part in name.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                return f"npfast.{name} is not built yet"
    return ""


def torch_threads(torch, n: int) -> None:
    if torch is not None:
        torch.set_num_threads(n)
