"""The command line's one reader of JSON files and JSON lines: every problem one line.

A file that is missing, is a folder, cannot be read, is not UTF-8 or is not
JSON (nested too deep, a number too long: ``core.json_input``) is an
``InputError`` naming the file, and the line when the decoder knows it:

    error: g2.json: not JSON: Expecting value at line 2
    error: deep.json: not JSON clearance reads: arrays or objects nested too deep
    error: requests: is a folder, not a file

A line of a stream that cannot be read is a ``RequestError`` of the field
``request``, so that the stream answers it with an error record in its place
and goes on (docs/formats.md, "Streams").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

from clearance.core.json_input import JsonProblem, decode_json
from clearance.errors import InputError, RequestError

__all__ = ["open_input", "read_bytes", "read_json_file", "read_json_line", "unreadable"]


def unreadable(path: Path, error: OSError) -> InputError:
    """Why ``path`` cannot be read, in one line naming it."""
    if isinstance(error, FileNotFoundError):
        return InputError(str(path), "file not found")
    if isinstance(error, IsADirectoryError):
        return InputError(str(path), "is a folder, not a file")
    if isinstance(error, PermissionError):
        return InputError(str(path), "cannot be read: permission denied")
    return InputError(str(path), f"cannot be read: {error.strerror or error}")


def open_input(path: Path) -> BinaryIO:
    """A file opened to read its bytes as they come (a stream); refused in one line."""
    if path.is_dir():
        raise unreadable(path, IsADirectoryError())
    try:
        return path.open("rb")
    except OSError as exc:
        raise unreadable(path, exc) from None


def read_bytes(path: Path) -> bytes:
    """A whole file's bytes (a key, a request); refused in one line naming the file."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise unreadable(path, exc) from None


def read_json_file(path: Path) -> Any:
    """The JSON value a file holds; ``InputError`` naming the file (and line) if it cannot be read."""
    try:
        return decode_json(read_bytes(path))
    except JsonProblem as exc:
        raise InputError(str(path), str(exc)) from None


def read_json_line(raw: bytes) -> Any:
    """The JSON value of one line of a stream; ``RequestError`` of ``request`` if it cannot be read."""
    try:
        return decode_json(raw)
    except JsonProblem as exc:
        raise RequestError("request", exc.problem) from None
