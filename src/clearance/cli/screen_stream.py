"""``screen -``: JSON lines in, one record out per line, decided in batches.

Input is read as it arrives (each ``os.read`` takes what is there, at most
64 KiB) and the complete lines of each read are decided together
(``Screener.decide_many``: one Cedar call per bundle and batch), so memory
stays flat however long the stream, and a slow producer still gets each
answer as soon as its line is in. A bad line yields an error record in its
place and the stream goes on.

The JSON records of a batch are written to standard output as plain text in
one write and flushed, so that a reader of the pipe sees each batch as it is
decided. They do not go through Rich: printing a line there took longer than
deciding it (docs/benchmarks.md, ``bench/stream.py``), and Rich would read
``:name:`` in a quoted value as an emoji code.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from clearance.core.decision import Decision
from clearance.core.request import AnyRequest, check_against, parse_request
from clearance.errors import ClearanceError
from clearance.policy.engine import Screener

from .context import now
from .json_input import read_json_line

__all__ = [
    "Record",
    "json_record",
    "json_text",
    "new_decision_id",
    "read_lines",
    "screened",
    "write_json",
]

_READ_SIZE = 1 << 16
_MAX_BATCH = 1024

Record = tuple[int, Decision | ClearanceError]
"""A line's number (from 1) and its decision, or why the line could not be decided."""

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode
"""``json.dumps(record, ensure_ascii=False, separators=(",", ":"))``, the encoder made once."""


def new_decision_id() -> str:
    return str(uuid.uuid4())


def read_lines(fd: int) -> Iterator[list[bytes]]:
    """Complete lines as they arrive: each yield is what one read made available."""
    pending = b""
    while True:
        chunk = os.read(fd, _READ_SIZE)
        if not chunk:
            if pending.strip():
                yield [pending]
            return
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for start in range(0, len(complete), _MAX_BATCH):
            yield complete[start : start + _MAX_BATCH]


def _parse_line(raw: bytes, screener: Screener) -> AnyRequest:
    request = parse_request(read_json_line(raw))
    check_against(request, screener.catalog)
    return request


def screened(
    screener: Screener, batches: Iterable[list[bytes]], *, as_of: dt.date | None, start: int = 0
) -> Iterator[list[Record]]:
    """Each batch of lines decided in one ``decide_many``; blank lines give no record but
    keep their number. ``start``: how many lines of the stream came before the first batch."""
    number = start
    for batch in batches:
        slots: list[tuple[int, AnyRequest | ClearanceError]] = []
        for offset, raw in enumerate(batch, start=1):
            if not raw.strip():
                continue
            try:
                slots.append((number + offset, _parse_line(raw, screener)))
            except ClearanceError as exc:
                slots.append((number + offset, exc))
        number += len(batch)
        good = [item for _, item in slots if not isinstance(item, ClearanceError)]
        decisions = iter(
            screener.decide_many(
                good, decision_ids=[new_decision_id() for _ in good], now=now(), as_of=as_of
            )
        )
        yield [
            (line, item if isinstance(item, ClearanceError) else next(decisions))
            for line, item in slots
        ]


def json_record(line: int, item: Decision | ClearanceError) -> dict[str, Any]:
    """A line's record as ``screen - --json`` writes it (docs/formats.md, "Streams")."""
    if isinstance(item, ClearanceError):
        return {"line": line, "error": item.message, **item.as_dict()}
    return {"line": line, **item.as_dict()}


def json_text(records: list[Record]) -> str:
    """A batch of records as compact JSON, one a line."""
    return "".join([_encode(json_record(line, item)) + "\n" for line, item in records])


def write_json(records: list[Record], out: TextIO) -> None:
    """A batch of records as compact JSON, one a line, in one write, flushed."""
    out.write(json_text(records))
    out.flush()
