"""A unified diff laid out for reading on a page: one row a line, numbered on both sides.

``policy.diff`` gives each file's hunks as ``clearance policy diff`` prints
them; a page shows the same lines, each with its ``+``/``-`` marker kept (the
colour alone would not say which is which), the line numbers of the old and
the new file instead of the ``@@`` header, and each hunk's range in words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from clearance.policy.diff import FileDiff

__all__ = ["DiffRow", "laid_out", "rows"]

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_KINDS = {"+": "add", "-": "remove", " ": "same"}


@dataclass(frozen=True, slots=True)
class DiffRow:
    """A line of the diff (``kind`` add, remove or same) or a hunk's range (``hunk``)."""

    kind: str
    marker: str
    text: str
    old: int | None = None
    new: int | None = None


def _span(start: int, count: int) -> str:
    if count == 0:
        return "none"
    return f"{start}" if count == 1 else f"{start}–{start + count - 1}"


def rows(diff: FileDiff) -> list[DiffRow]:
    """The rows of one file's diff, numbered as the old and the new file count them."""
    laid: list[DiffRow] = []
    old = new = 0
    for line in diff.lines:
        hunk = _HUNK.match(line)
        if hunk is not None:
            o, oc, n, nc = (int(g) if g is not None else 1 for g in hunk.groups())
            # difflib numbers an empty range from the line before it.
            old, new = (o if oc else o + 1), (n if nc else n + 1)
            words = f"lines {_span(old, oc)} before, {_span(new, nc)} after"
            laid.append(DiffRow("hunk", "", words))
            continue
        kind = _KINDS.get(line[:1], "same")
        text = line[1:].rstrip("\n")
        marker = line[:1].strip()
        if kind == "add":
            laid.append(DiffRow(kind, marker, text, new=new))
            new += 1
        elif kind == "remove":
            laid.append(DiffRow(kind, marker, text, old=old))
            old += 1
        else:
            laid.append(DiffRow(kind, marker, text, old=old, new=new))
            old, new = old + 1, new + 1
    return laid


def laid_out(files: Iterable[FileDiff]) -> list[tuple[FileDiff, list[DiffRow]]]:
    """Each file with its rows, as ``_bundle_diff.html``'s ``text_diff`` takes them."""
    return [(f, rows(f)) for f in files]
