"""What a section returns."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Section:
    name: str
    title: str
    columns: list = field(default_factory=list)
    rows: list = field(default_factory=list)  # lists of cell strings, one per column
    notes: list = field(default_factory=list)  # lines shown under the table
    plots: list = field(default_factory=list)  # PNG file names inside the output folder
    skipped: str = ""  # why the whole section did not run

    def note(self, text: str) -> None:
        self.notes.append(text)


def ratio(anchor: float, ours: float) -> str:
    """Speed-up of npfast over an anchor, as 'N.NNx' (>1: npfast is faster)."""
    if anchor is None or ours is None or ours <= 0:
        return "-"
    return f"{anchor / ours:.2f}x"


def pct(value: float, limit: float) -> str:
    if not value or not limit:
        return "-"
    return f"{100 * value / limit:.0f}%"
