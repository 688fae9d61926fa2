"""Small helpers every server-drawn SVG shares: escaping, unique element ids, round axes.

Kept apart from the drawings so that each drawing's module holds only its own layout.
"""

from __future__ import annotations

from html import escape
from itertools import count

__all__ = ["CHAR_WIDTH", "attr", "unique_id", "width_of"]

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
