"""Line plots (matplotlib, Agg backend); None when matplotlib is missing."""

from __future__ import annotations

import os

# Why plots are missing (matplotlib, a file that could not be written), for the report's end.
PROBLEMS: dict = {}


def line_plot(path, title, xlabel, ylabel, series: dict, logy=False, logx=False):
    """series: label -> (xs, ys). Returns the file name written, or None (the reason in
    PROBLEMS, which the report prints: probe22d found plots missing without a word)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception as exc:
        PROBLEMS.setdefault("matplotlib", f"no plots: matplotlib does not import ({exc})")
        return None
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    for label, (xs, ys) in series.items():
        pts = [(x, y) for x, y in zip(xs, ys) if y is not None]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3,
                    lw=2.5 if label == "npfast" else 1.2, label=label)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    try:
        fig.savefig(path)
    except (OSError, ValueError) as exc:  # the table stays; only the plot is lost
        PROBLEMS[path] = f"plot {os.path.basename(path)} not written: {exc}"
        return None
    finally:
        plt.close(fig)
    return os.path.basename(path)
