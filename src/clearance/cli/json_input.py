"""The command line's one reader of JSON files and JSON lines: every problem one line.

A file that is missing, is a folder, cannot be read, is not UTF-8 or is not
JSON (nested too deep, a number too long: ``core.json_input``) is an
``InputError`` naming the file, and the line and column when the decoder knows
them; a file that is YAML, not JSON, is said to be so:

    error: g2.json: not JSON: Expecting ',' delimiter at line 2, column 3
    error: deep.json: not JSON clearance reads: arrays or objects nested too deep
    error: requests: is a folder, not a file
    error: g2.yaml: not JSON but YAML, it seems: a request must be JSON
    error: g2.json: not Unicode text: \\ud800 is half of a surrogate pair

JSON may escape half of a UTF-16 surrogate pair alone (``"\\ud800"``), which
Python decodes to a string no UTF-8 writer can encode; it is refused here, so
that nothing later (pydantic, the output) fails on it.

A line of a stream that cannot be read is a ``RequestError`` of the field
``request``, so that the stream answers it with an error record in its place
and goes on (docs/formats.md, "Streams").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from clearance.core.json_input import JsonProblem, decode_json
from clearance.core.unreadable import unreadable_file
from clearance.errors import InputError, RequestError

__all__ = ["open_input", "read_bytes", "read_json_file", "read_json_line", "unreadable"]


def unreadable(path: Path, error: OSError) -> InputError:
    """Why ``path`` cannot be read, in one line naming it."""
    return InputError(str(path), unreadable_file(error))


def _is_yaml(content: bytes) -> bool:
    """Whether text that is not JSON reads as a YAML mapping, as a request written in YAML
    (the format of the pack's files) does. Text that opens as JSON does (``{``, ``[``) is
    JSON gone wrong, and the JSON decoder's words say better where."""
    text = content.lstrip()
    if text[:1] in (b"{", b"[", b'"'):
        return False
    try:
        return isinstance(yaml.safe_load(content), dict)
    except (yaml.YAMLError, RecursionError, ValueError):
        return False


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


def _lone_surrogate(content: bytes, value: Any) -> str | None:
    """Why ``value`` (decoded from ``content``) is not Unicode text, or None if it is: only
    an escape (``\\u``) can put a lone surrogate in it."""
    if b"\\u" not in content:
        return None
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"not Unicode text: \\u{ord(exc.object[exc.start]):04x} is half of a surrogate pair"
    return None


def read_json_file(path: Path, what: str = "this file") -> Any:
    """The JSON value a file holds; ``InputError`` naming the file (and where in it) if it
    cannot be read. ``what`` is what the file should hold, for a file that is YAML."""
    content = read_bytes(path)
    try:
        value = decode_json(content)
    except JsonProblem as exc:
        if exc.line is not None and _is_yaml(content):
            problem = f"not JSON but YAML, it seems: {what} must be JSON"
            raise InputError(str(path), problem) from None
        raise InputError(str(path), str(exc)) from None
    if not_text := _lone_surrogate(content, value):
        raise InputError(str(path), not_text)
    return value


def read_json_line(raw: bytes) -> Any:
    """The JSON value of one line of a stream; ``RequestError`` of ``request`` if it cannot be read."""
    try:
        value = decode_json(raw)
    except JsonProblem as exc:
        raise RequestError("request", exc.in_line()) from None
    if not_text := _lone_surrogate(raw, value):
        raise RequestError("request", not_text)
    return value
