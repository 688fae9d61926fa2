"""Small helpers every server-drawn SVG shares: escaping, unique element ids, round axes.

Kept apart from the drawings so that each drawing's module holds only its own layout.
"""

from __future__ import annotations

from html import escape
from itertools import count

__all__ = ["CHAR_WIDTH", "attr", "nice_ticks", "unique_id", "width_of"]

CHAR_WIDTH = 7.4
"""A generous width of one character of 12px text, in user units: layouts reserve this much
per character so that text never runs into what is beside it, whichever sans-serif font the
browser picks."""

_ids = count(1)


def attr(value: object) -> str:
    """``value`` escaped for an attribute or text node."""
    return escape(str(value), quote=True)


def unique_id(prefix: str) -> str:
    """An id no other drawing on the page has (patterns and markers are found by id)."""
    return f"{prefix}{next(_ids)}"


def width_of(text: str, size: float = 12) -> float:
    """How wide ``text`` may be at font size ``size`` (see ``CHAR_WIDTH``)."""
    return len(text) * CHAR_WIDTH * size / 12


def nice_ticks(peak: int, *, most: int = 6) -> list[int]:
    """Whole-number gridlines from 0 to the first round value (1, 2 or 5 × 10ⁿ steps) at or
    above ``peak``, in at most ``most`` steps: an axis that fits the data, with no empty
    step above it and no fractional tick."""
    if peak <= 0:
        return [0, 1]
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            size = step * magnitude
            steps = -(-peak // size)
            if steps <= most:
                return [size * n for n in range(steps + 1)]
        magnitude *= 10
