"""The ledger as a file: an export that verifies on its own, redacted for its reader.

An export is JSON lines (docs/formats.md, docs/verifying.md): a header naming
the format and the installation's system public key, then the checkpoints
(all those in the database, and one signed for the export itself), then every
event in sequence order. For a reader not cleared for everything, an event of
a case above their level carries only what checking the chain needs: its
sequence number, the hashes and its seal, with the digest of its body in
place of the body (scheme 2), so integrity can be verified by someone who may
not read the event.

Exports written before checkpoints existed (event lines only, no header) are
still read and checked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from clearance.core.access import Level
from clearance.core.anchors import Anchor, Checkpoint, Redaction
from clearance.core.chain import ChainVerifier, Link, Scheme, body_hash, stitch
from clearance.core.json_input import JsonProblem, decode_json
from clearance.errors import InputError, LedgerBroken, NotFoundError
from clearance.service.anchoring import installation_key
from clearance.service.audit import AuditReport, Finding, TrustedKey, anchors_from, judge
from clearance.store.repository import Store

__all__ = [
    "FORMAT",
    "ExportSummary",
    "clearance_of",
    "export",
    "open_export",
    "read_checkpoint",
    "verify_export",
]

FORMAT = "clearance-ledger-export"
VERSION = 2


@dataclass(slots=True)
class ExportSummary:
    """What an export wrote: its events, how many redacted (counted as the lines are
    written), its own checkpoint (or why the system refused to sign one: the ledger does not
    verify)."""

    checkpoint: Checkpoint | None
    refused: str | None = None
    events: int = 0
    redacted: int = 0


def _event_line(link: Link, redact: bool) -> dict[str, Any]:
    if not redact:
        return {
            "seq": link.seq,
            "type": link.type,
            "case_id": link.case_id,
            "prev_hash": link.prev_hash,
            "body": link.body,
            "hash": link.hash,
            "scheme": link.scheme,
            "seal": link.seal,
        }
    line: dict[str, Any] = {
        "seq": link.seq,
        "redacted": True,
        "prev_hash": link.prev_hash,
        "hash": link.hash,
        "scheme": link.scheme,
        "seal": link.seal,
    }
    if link.scheme == Scheme.V2 and link.body is not None:
        line["body_hash"] = body_hash(link.body.encode("utf-8"))
    return line


def _line(item: dict[str, Any]) -> str:
    return json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n"


def open_export(
    store: Store, *, now: dt.datetime, reader_level: int | None = None
) -> tuple[ExportSummary, Iterator[str]]:
    """Sign the export's checkpoint now, and give the export's lines (JSON, each ending in a
    newline) to be written as they are read; ``reader_level``: redact events of cases above it.

    The summary's counts grow as the lines are taken. A ledger that does not verify since
    its last checkpoint is still exported whole, without a checkpoint of its own.
    """
    summary = ExportSummary(None)
    public_key = installation_key(store)
    if public_key is not None:
        try:
            with store.transaction() as tx:
                summary.checkpoint = tx.ledger.checkpoint(now, "export")
        except LedgerBroken as exc:  # the export goes on: the auditor needs it most then
            summary.refused = exc.message
    level = None if reader_level is None else Level(reader_level)
    redacting = level is not None and level < max(Level)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "system_public_key": public_key,
        "redacted_above": level.label if redacting and level is not None else None,
        "exported_at": now.astimezone(dt.UTC).isoformat(),
    }
    made, redaction = summary.checkpoint, None
    if made is not None and redacting and level is not None and store.sealer is not None:
        # What is hidden is signed too, so nobody who carries the file can hide more.
        redaction = Redaction.sign(
            seq=made.seq,
            head=made.head,
            level=level.label,
            hidden=store.hidden_events(int(level), made.seq),
            signer=store.sealer.sign,
        )

    def lines() -> Iterator[str]:
        yield _line(header)
        with store.reading() as tx:
            stored = [s.checkpoint for s in tx.checkpoints.all()]
        for checkpoint in stored:
            yield _line({"checkpoint": checkpoint.as_dict()})
        if redaction is not None:
            yield _line({"redaction": redaction.as_dict()})
        # With its own checkpoint, the export is the ledger up to it: every event it holds,
        # and everything it redacts, is then vouched for by what the system signed.
        up_to = None if made is None else made.seq
        for link, case_level in store.ledger_links(up_to=up_to):
            hidden = (
                reader_level is not None
                and link.case_id is not None
                and (case_level is None or case_level > reader_level)
            )
            summary.events += 1
            summary.redacted += hidden
            yield _line(_event_line(link, hidden))

    return summary, lines()


def export(
    store: Store, out: IO[str], *, now: dt.datetime, reader_level: int | None = None
) -> ExportSummary:
    """Write the ledger as JSON lines to ``out`` (``open_export``)."""
    summary, lines = open_export(store, now=now, reader_level=reader_level)
    for line in lines:
        out.write(line)
    return summary


def clearance_of(store: Store, user_id: str) -> int:
    """The clearance level of the user an export is redacted for."""
    with store.reading() as tx:
        user = tx.people.user(user_id)
    if user is None:
        raise NotFoundError(f"unknown user '{user_id}'")
    return user.clearance


def _text(item: dict[str, Any], name: str) -> str:
    value = item[name]
    if not isinstance(value, str):
        raise TypeError(name)
    return value


def _link(item: dict[str, Any]) -> Link:
    """One event line as a link; raises KeyError, TypeError or ValueError if it is not one."""
    seq = item["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise TypeError("seq")
    scheme = item.get("scheme", Scheme.V1)
    seal = item.get("seal")
    if item.get("redacted"):
        digest = item.get("body_hash")
        return Link(
            seq,
            None,
            None,
            _text(item, "prev_hash"),
            _text(item, "hash"),
            scheme,
            None,
            seal,
            digest if isinstance(digest, str) else None,
        )
    body = _text(item, "body")
    # Exports written before event types were carried: the type is the body's own.
    kind = item["type"] if "type" in item else decode_json(body).get("type")
    case_id = item["case_id"]
    if case_id is not None and not isinstance(case_id, str):
        raise TypeError("case_id")
    return Link(
        seq,
        kind if isinstance(kind, str) else None,
        case_id,
        _text(item, "prev_hash"),
        _text(item, "hash"),
        scheme,
        body,
        seal if isinstance(seal, str) else None,
    )


def read_checkpoint(data: object, where: str) -> Checkpoint:
    """A checkpoint from a file the auditor holds; an ``InputError`` names what is wrong."""
    try:
        return Checkpoint.from_dict(data)
    except ValueError as exc:
        raise InputError(where, f"is not a checkpoint: {exc}") from None


def verify_export(
    lines: Iterable[str | bytes],
    name: str,
    *,
    key: TrustedKey | None = None,
    given: Sequence[tuple[Checkpoint, str]] = (),
    all_seals: bool = False,
) -> AuditReport:
    """Check an exported file without any database: chain, anchors and seals as ``audit.verify``
    does. Without ``key``, the key named in the file's header is used (not independent).

    Seals are checked for the events after the export's last checkpoint (all
    of them with ``all_seals``): the checkpoints come before the events in the
    file, so one pass reads it. An export whose header says it is whole
    (``redacted_above`` null) must carry every event's body; the report counts
    the events that are redacted.
    """
    numbered = enumerate(lines, start=1)
    header: dict[str, Any] = {}
    checkpoints: list[tuple[Checkpoint, str]] = []
    redaction: Redaction | None = None
    first_event: tuple[int, dict[str, Any]] | None = None
    for number, line in numbered:
        if not line.strip():
            continue
        item = _parse(line, number, name)
        if number == 1 and item.get("format") == FORMAT:
            header = item
        elif "checkpoint" in item:
            checkpoints.append(
                (read_checkpoint(item["checkpoint"], f"{name}: line {number}"), "in the export")
            )
        elif "redaction" in item:
            try:
                redaction = Redaction.from_dict(item["redaction"])
            except ValueError as exc:
                raise InputError(name, f"line {number} is not a redaction: {exc}") from None
        else:
            first_event = (number, item)
            break
    told = header.get("system_public_key")
    if key is None and isinstance(told, str):
        key = TrustedKey(told, "the export itself", independent=False)
    anchors, findings = anchors_from([*checkpoints, *given], key)
    if key is not None and redaction is not None:
        why = redaction.problem(key.public_key)
        if why is None:
            anchors.append(Anchor(redaction.seq, redaction.head, "the export's redaction", False))
        else:
            findings.append(Finding(None, f"the export's redaction statement: {why}"))
            redaction = None
    if key is not None and isinstance(told, str) and told != key.public_key:
        findings.insert(
            0,
            Finding(
                None,
                f"the export's header names another system key ({told}) than {key.source}:"
                " it is not from that installation, or its header was changed",
            ),
        )
    # The file is read once: the seals that may need checking are kept as it goes, those
    # after its last checkpoint (or all of them).
    last_anchor = max((a.seq for a in anchors), default=0)
    # Exports from before headers existed say nothing of redaction: any event may be.
    whole = bool(header) and header.get("redacted_above") is None
    verifier = ChainVerifier(watch={a.seq for a in anchors}, whole=whole)
    seals: list[tuple[int, int, str, str | None]] = []
    hidden: list[int] = []
    downgraded: list[int] = []  # scheme 1 came before seals: an event of it with one was not

    def links() -> Iterator[Link]:
        rest = [first_event] if first_event is not None else []
        for number, item in [*rest, *((n, _parse(x, n, name)) for n, x in numbered if x.strip())]:
            try:
                link = _link(item)
            except (KeyError, TypeError, ValueError):
                raise InputError(name, f"line {number} is not a ledger event") from None
            if all_seals or link.seq > last_anchor:
                seals.append((link.seq, link.scheme, link.hash, link.seal))
            if link.redacted:
                hidden.append(link.seq)
            if link.scheme == Scheme.V1 and link.seal is not None:
                downgraded.append(link.seq)
            yield link

    verifier.feed(link.row() for link in links())
    chain = stitch([verifier.segment()])
    if downgraded:
        more = f" (and {len(downgraded) - 1} later events alike)" if len(downgraded) > 1 else ""
        findings.append(
            Finding(
                downgraded[0],
                f"event {downgraded[0]} is of link scheme 1 but carries a seal: it was written"
                f" as scheme 2, and its scheme changed{more}",
            )
        )
    if header.get("redacted_above") is not None:  # a whole export redacts nothing: above
        findings += _redaction_findings(redaction, header, hidden)
    report = judge(
        chain,
        anchors,
        findings,
        key,
        lambda start: (s for s in seals if s[0] >= start),
        all_seals=all_seals,
    )
    return dataclasses.replace(report, redacted=len(hidden))


def _redaction_findings(
    redaction: Redaction | None, header: dict[str, Any], hidden: list[int]
) -> list[Finding]:
    """The redacted events of an export against what the system signed it would redact."""
    if redaction is None:
        return [
            Finding(
                hidden[0] if hidden else None,
                "the export redacts events, and no redaction the system signed says which:"
                " any of them may be one its reader may see",
            )
        ]
    if redaction.level != header.get("redacted_above"):
        return [
            Finding(
                None,
                f"the export says it is redacted above {header.get('redacted_above')}, and the"
                f" system redacted it above {redaction.level}",
            )
        ]
    beyond = [seq for seq in hidden if seq > redaction.seq]
    if beyond:
        return [
            Finding(
                beyond[0],
                f"event {beyond[0]} is redacted, after event {redaction.seq}, the last the"
                " system's redaction covers",
            )
        ]
    if Redaction.digest(hidden) != redaction.hidden:
        return [
            Finding(
                None,
                "the events redacted are not those the system redacted for this reader: one"
                " of them may be an event the reader may see, or one they may not was shown",
            )
        ]
    return []


def _parse(line: str | bytes, number: int, name: str) -> dict[str, Any]:
    try:
        item = decode_json(line)
    except JsonProblem as exc:
        raise InputError(name, f"line {number}: {exc.in_line()}") from None
    if not isinstance(item, dict):
        raise InputError(name, f"line {number} is not a ledger event")
    return item
