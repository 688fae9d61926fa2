"""``screen -``: JSON lines in, one record out per line, decided in batches.

Input is read as it arrives (each ``os.read`` takes what is there, at most
64 KiB) and the complete lines of each read are decided together
(``Screener.decide_many``: one Cedar call per bundle and batch), so memory
stays flat however long the stream, and a slow producer still gets each
answer as soon as its line is in. A bad line yields an error record in its
place and the stream goes on.

The JSON records of a batch are written to standard output as UTF-8 in one
write and flushed, so that a reader of the pipe sees each batch as it is
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

import orjson

from clearance.core.decision import Decision, HolderJudgement, Outcome
from clearance.core.request import AnyRequest, check_against, parse_request, parse_request_json
from clearance.errors import ClearanceError
from clearance.policy.engine import Screener

from .context import now
from .json_input import read_json_line

__all__ = [
    "Record",
    "json_bytes",
    "json_record",
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
    request = parse_request_json(raw) or parse_request(read_json_line(raw))
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


def json_bytes(records: list[Record]) -> bytes:
    """A batch of records as compact JSON in UTF-8, one a line: ``json_record`` encoded,
    byte for byte (a decision's record is put together from parts, ``_decision_bytes``)."""
    return b"".join(
        [
            (_encode(json_record(line, item)) + "\n").encode()
            if isinstance(item, ClearanceError)
            else _decision_bytes(line, item)
            for line, item in records
        ]
    )


def _fast(value: object) -> bytes:
    """``_encode(value).encode()``, by orjson where it can: it writes UTF-8 at once, more than
    twice as fast (docs/benchmarks.md), and what it writes of strings, integers, lists
    and objects is ``_encode``'s byte for byte (tests/test_stream_record.py). An integer
    beyond 64 bits, which orjson refuses, goes to ``_encode``. Floats never come here: orjson
    writes 1e-05 as 0.00001, so the judgements' parts (whose paths hold value shares) keep
    ``_encode``."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return _encode(value).encode()


_OUTCOMES = {outcome: _encode(outcome.value).encode() for outcome in Outcome}

_PARTS_HELD = 8192
"""Judgements whose encoded parts are kept: far more than the distinct judgements of the
benchmark mix, and a few megabytes at most."""

Parts = tuple[bytes, bytes, bytes, bytes]

_parts_held: dict[int, tuple[HolderJudgement, Parts]] = {}
"""Each judgement's four parts of a record, by the judgement's ``id``. The judgement is kept
beside its parts, so its ``id`` cannot be another object's while the entry is there."""


def _parts(judgement: HolderJudgement) -> Parts:
    """What one judgement puts in a record, encoded: its party (``consent_holders``), its
    entries of ``holder_paths`` and ``bundles``, and its object in ``holders``.

    The screener's memo gives the same judgement object to every request that asks its
    question (most of a long stream's judgements), so each is encoded once, not once a
    record; this is most of what a record costs to write (docs/benchmarks.md)."""
    held = _parts_held.get(id(judgement))
    if held is not None and held[0] is judgement:
        return held[1]
    if len(_parts_held) >= _PARTS_HELD:
        _parts_held.clear()
    party = _encode(judgement.holder.party)
    parts = (
        party,
        f"{party}:{_encode([path.text for path in judgement.holder.paths])}",
        f"{party}:{_encode(judgement.bundle)}",
        _encode(judgement.as_dict()),
    )
    encoded = (parts[0].encode(), parts[1].encode(), parts[2].encode(), parts[3].encode())
    _parts_held[id(judgement)] = (judgement, encoded)
    return encoded


def _decision_bytes(line: int, decision: Decision) -> bytes:
    """``_encode(json_record(line, decision)) + "\\n"`` in UTF-8, with each judgement's parts
    encoded once (``_parts``) and the rest in three calls of the encoder: the keys in
    ``Decision.as_dict``'s order (tests/test_stream_record.py holds the two byte-equal)."""
    parts = [_parts(j) for j in decision.judgements]
    middle = _fast(
        {
            "required_approvals": [a.as_dict() for a in decision.required_approvals],
            "conditions": decision.conditions,
            "reasons": decision.reasons,
        }
    )
    tail: dict[str, Any] = {
        "stockpile": None if decision.stockpile is None else decision.stockpile.as_dict(),
        "request": dict(decision.request),
        "request_digest": decision.request_digest,
        "judged_as_of": decision.judged_as_of.isoformat(),
        "catalog_revision": decision.catalog_revision,
        "evaluated_at": decision.evaluated_at.isoformat(),
        "duration_us": decision.duration_us,
    }
    if decision.waiting_period is not None:
        tail["waiting_period"] = decision.waiting_period.as_dict()
    return b"".join(
        [
            b'{"line":%d,"decision_id":' % line,
            _fast(decision.decision_id),
            b',"outcome":',
            _OUTCOMES[decision.outcome],
            b',"consent_holders":[',
            b",".join([p[0] for p in parts]),
            b'],"holder_paths":{',
            b",".join([p[1] for p in parts]),
            b"},",
            middle[1:-1],
            b',"bundles":{',
            b",".join([p[2] for p in parts]),
            b'},"holders":[',
            b",".join([p[3] for p in parts]),
            b"],",
            _fast(tail)[1:],
            b"\n",
        ]
    )


def write_json(records: list[Record], out: TextIO) -> None:
    """A batch of records as compact JSON, one a line, in one write, flushed: as UTF-8 to the
    file beneath ``out`` when it has one, as text to a stream in memory."""
    data = json_bytes(records)
    binary = getattr(out, "buffer", None)
    if binary is None:
        out.write(data.decode())
        out.flush()
        return
    out.flush()
    binary.write(data)
    binary.flush()
