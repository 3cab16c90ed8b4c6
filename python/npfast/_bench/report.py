"""Runs the sections, prints the terminal table, writes report.md and the plots."""

from __future__ import annotations

import datetime
import importlib
import os
import platform
import sys
import time
import traceback

# Tools are timed in interleaved rounds, so an anchor's idle OpenMP threads spinning after its
# call (libgomp's default) would steal the cores from whatever runs next. Passive waiting keeps
# every tool's measurement its own. Set before any anchor is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

import npfast  # noqa: E402

from . import limits, plots
from .section import NOISE, Section, shares_over_limit
from .timing import Ctx

SECTIONS = ["limits", "conv_sweep", "conv_cnn", "zeros", "astype", "maxpool", "ndimage", "matmul", "matvec",
            "train_step", "scaling", "interference"]


class Progress:
    """A one-line progress bar on stderr (only on a terminal)."""

    def __init__(self):
        self.tty = sys.stderr.isatty()
        self.label = ""

    def __call__(self, label: str, done: int, total: int) -> None:
        if not self.tty:
            return
        width = 30
        filled = int(width * done / max(total, 1))
        bar = "#" * filled + "." * (width - filled)
        sys.stderr.write(f"\r  {label:<28} [{bar}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\r" + " " * 80 + "\r")
        sys.stderr.flush()


def versions() -> list:
    """Versions and thread counts of npfast and every anchor present."""
    lines = [f"npfast {npfast.__version__}: isa {npfast.config()['isa']}, "
             f"{npfast.get_num_threads()} threads"]
    lines.append(f"numpy {np.__version__}" + _blas_threads())
    for mod, name in [("scipy", "scipy"), ("torch", "torch"), ("cv2", "opencv")]:
        try:
            m = importlib.import_module(mod)
        except Exception:
            lines.append(f"{name}: not installed (its rows are skipped)")
            continue
        extra = ""
        if mod == "torch":
            extra = f", {m.get_num_threads()} threads"
        if mod == "cv2":
            extra = f", {m.getNumThreads()} threads"
        lines.append(f"{name} {m.__version__}{extra}")
    return lines


def _blas_threads() -> str:
    try:
        import threadpoolctl

        infos = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
        if infos:
            return f" ({infos[0]['internal_api']}, {infos[0]['num_threads']} threads)"
    except Exception:
        pass
    return ""


def render_table(sec: Section) -> str:
    widths = [len(c) for c in sec.columns]
    for row in sec.rows:
        widths = [max(w, len(str(cell))) for w, cell in zip(widths, row)]
    line = "  ".join(c.ljust(w) for c, w in zip(sec.columns, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    for row in sec.rows:
        out.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
    return "\n".join(out)


def render_markdown(sec: Section) -> str:
    out = [f"## {sec.title}", ""]
    if sec.skipped:
        return "\n".join(out + [f"Skipped: {sec.skipped}", ""])
    if sec.rows:
        out.append("| " + " | ".join(sec.columns) + " |")
        out.append("|" + "---|" * len(sec.columns))
        out += ["| " + " | ".join(str(c) for c in row) + " |" for row in sec.rows]
        out.append("")
    out += [f"- {n}" for n in sec.notes]
    out += [f"\n![{p}]({p})" for p in sec.plots]
    return "\n".join(out) + "\n"


def print_section(sec: Section, t0: float) -> None:
    if sec.skipped:
        print(f"skipped: {sec.skipped}\n")
        return
    if sec.rows:
        print(render_table(sec))
    for n in sec.notes:
        print(f"  {n}")
    print(f"  ({time.time() - t0:.0f} s)\n", flush=True)


def noise_sentence(sections: list) -> str:
    """The report's word on rows above 100% of a limit (the tables mark them NOISE)."""
    over = sum(shares_over_limit(s) for s in sections)
    if not over:
        return "No row is above 100% of the measured peak or bandwidth."
    return (f"{over} row(s) are above 100% of the measured peak or bandwidth and are marked "
            f"{NOISE}: measurement noise (other processes shared the cores while a limit or the "
            "row was measured), not a speed beyond the machine's limit.")


def run_report(mode: str, out_dir: str, only=None, threads=None) -> int:
    names = SECTIONS if not only else [s.replace("-", "_") for s in only]
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        print(f"unknown section(s): {', '.join(unknown)}; choose from "
              f"{', '.join(s.replace('_', '-') for s in SECTIONS)}", file=sys.stderr)
        return 2
    if "limits" not in names:
        names = ["limits"] + names  # every row needs the limits
    os.makedirs(out_dir, exist_ok=True)
    plots.PROBLEMS.clear()  # this run's own
    ctx = Ctx(mode=mode, progress=Progress(), threads=threads)
    started = time.time()
    header = [
        f"npfast benchmark report ({mode} run, {datetime.datetime.now():%Y-%m-%d %H:%M})",
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable), "
        f"Python {platform.python_version()}, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}",
    ] + versions()
    print("\n".join(header) + "\n")
    sections = []
    for name in names:
        mod = importlib.import_module(f"npfast._bench.{name}")
        print(f"== {mod.TITLE}", flush=True)
        t0 = time.time()
        try:
            sec = mod.run(ctx, out_dir)
        except Exception as exc:  # a broken section must not hide the others
            traceback.print_exc()
            sec = Section(name, mod.TITLE, skipped=f"failed: {type(exc).__name__}: {exc}")
        sections.append(sec)
        print_section(sec, t0)
    # The limits again, now that the sections are done: each becomes the best of both
    # measurements, and the tables' percentages (rendered from here on) use that.
    limits_sec = sections[names.index("limits")]
    if not limits_sec.skipped:
        print(f"== {limits.TITLE}: measured again at the end", flush=True)
        t0 = time.time()
        limits.finish(ctx, limits_sec)
        print_section(limits_sec, t0)
    noise = noise_sentence(sections)
    if plots.PROBLEMS:
        noise += " " + "; ".join(plots.PROBLEMS.values()) + "."
    print(noise + "\n")
    md = ["# npfast benchmark report", ""] + [f"    {h}" for h in header] + ["", noise, ""]
    md += [render_markdown(s) for s in sections]
    md.append(f"_Total time: {time.time() - started:.0f} s._")
    path = os.path.join(out_dir, "report.md")
    with open(path, "w") as f:
        f.write("\n".join(md) + "\n")
    print(f"report: {path} ({time.time() - started:.0f} s)")
    return 0
