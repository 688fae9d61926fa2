"""Decoding JSON that a user gives, so that no text can crash the reader.

Python's decoder raises ``RecursionError`` for arrays or objects nested a few
thousand deep and ``ValueError`` for an integer of more than 4,300 digits,
and it reads ``NaN`` and ``Infinity``, which are not JSON. ``decode_json``
turns each of these, and text that is not UTF-8 or not JSON, into one
``JsonProblem`` in words a user can act on (with the line and column, when the
decoder knows them). It also refuses an integer of more than 19 digits: none of the
numbers clearance keeps (a quantity, at most 2**53 − 1) can be that long, and
one within 19 digits is judged by the rules of the field that holds it, which
name the field.

Every reader of a user's JSON goes through here: the command line's files and
lines (``cli.json_input``), and an exported ledger or a case file checked
offline.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["MAX_DIGITS", "JsonProblem", "decode_json"]

MAX_DIGITS = 19
"""The most digits of a JSON integer a user may give: more than any count clearance keeps has."""


class JsonProblem(ValueError):
    """JSON that cannot be read, in words; ``line`` and ``column`` (from 1) are where, when
    the decoder knows."""

    def __init__(self, problem: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line
        self.column = column

    def __str__(self) -> str:
        if self.line is None:
            return self.problem
        return f"{self.problem} at line {self.line}, column {self.column}"

    def in_line(self) -> str:
        """The problem and its column, for a reader that names the line itself (a line of a
        stream, of an export): the decoder's line is then always 1."""
        return self.problem if self.column is None else f"{self.problem} at column {self.column}"


def _integer(text: str) -> int:
    if len(text) <= MAX_DIGITS:  # pragma: no mutate
        return int(text)
    digits = len(text.lstrip("-"))
    if digits > MAX_DIGITS:
        raise JsonProblem(f"a whole number of {digits:,} digits is longer than any clearance reads")
    return int(text)


def _constant(name: str) -> float:
    raise JsonProblem(f"not JSON: {name} is not a JSON number")


_decode = json.JSONDecoder(parse_int=_integer, parse_constant=_constant).decode
"""The decoder, made once: a stream decodes a line at a time, and making one cost about as
much as decoding a short line."""


def decode_json(text: str | bytes) -> Any:
    """The value of a JSON text (bytes must be UTF-8); ``JsonProblem`` if it cannot be read."""
    if isinstance(text, bytes):
        try:
            text = text.decode()
        except UnicodeDecodeError as exc:
            raise JsonProblem(f"not UTF-8 text (byte {exc.start + 1:,} cannot be read)") from None
    if text.startswith("\ufeff"):
        raise JsonProblem("not JSON: it starts with a byte order mark (U+FEFF)", 1, 1)
    try:
        return _decode(text)
    except json.JSONDecodeError as exc:
        raise JsonProblem(f"not JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except RecursionError:
        raise JsonProblem("not JSON clearance reads: arrays or objects nested too deep") from None
