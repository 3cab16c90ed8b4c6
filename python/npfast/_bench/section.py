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


# Marks a "% of limit" cell above 100%: no code runs faster than the machine's limit, so such a
# figure means the limit was measured low (other processes shared the cores while it was probed).
NOISE = "(noise)"


class Limit:
    """A machine limit that can still rise: the report measures it again at its end and keeps
    the best, so every "% of limit" cell is rendered only when its table is."""

    def __init__(self, value: float):
        self.value = value

    def raise_to(self, value: float) -> None:
        self.value = max(self.value, value)

    def __bool__(self) -> bool:
        return bool(self.value)

    def __float__(self) -> float:
        return float(self.value)


class Share:
    """A "% of limit" cell: `value` as a percentage of the limit's value when rendered, marked
    NOISE above 100%. An `effective` rate counts operations the code did not execute (Winograd
    does 2.25x fewer multiplies than the direct method it is counted as), so it can honestly
    exceed the limit: it is marked with that reason instead."""

    def __init__(self, value: float, limit, effective: str = ""):
        self.value = value
        self.limit = limit
        self.effective = effective

    @property
    def fraction(self) -> float:
        return self.value / float(self.limit)

    @property
    def over(self) -> bool:
        """Above 100% for want of a good limit measurement (measurement noise)."""
        return self.fraction > 1.0 and not self.effective

    def __str__(self) -> str:
        text = f"{100 * self.fraction:.0f}%"
        if self.effective and self.fraction > 1.0:
            return f"{text} ({self.effective})"
        return text + (f" {NOISE}" if self.over else "")


def pct(value: float, limit, effective: str = "") -> "Share | str":
    """`value` as a share of `limit` (a number or a Limit), or "-" when either is missing;
    `effective`: why the value may exceed the limit (see Share)."""
    if not value or not limit:
        return "-"
    return Share(value, limit, effective)


def shares_over_limit(sec: Section) -> int:
    """How many of the section's "% of limit" cells are above 100%."""
    return sum(1 for row in sec.rows for cell in row if isinstance(cell, Share) and cell.over)
