"""The ledger's hash chain: event encoding, link hashes and verification. Pure code.

Every event is stored as a *body*, the canonical JSON of
``{at, actor, type, case_id, payload}``, and linked by

    hash = SHA-256( "<seq>␟<case_id>␟<prev_hash>␟<body>" )

so editing, deleting, inserting or reordering any event, or changing its
sequence number or case, breaks the chain at that event. The same functions
verify the database and an exported file, so an auditor needs nothing but
the export and this module's rules (docs/formats.md states them too).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from clearance.core.digest import canonical_json

__all__ = [
    "GENESIS",
    "ChainReport",
    "ChainVerifier",
    "EventType",
    "Link",
    "Message",
    "Segment",
    "event_body",
    "link_hash",
    "link_message",
    "stitch",
    "verify_chain",
]

GENESIS = "sha256:" + "0" * 64
"""The ``prev_hash`` of the first event."""

_SEP = "\x1f"


class EventType(StrEnum):
    """Everything that is ever recorded. One writer (``store.ledger.append``) writes them."""

    USER_ADDED = "user_added"
    USER_ACCESS_CHANGED = "user_access_changed"
    API_TOKEN_ISSUED = "api_token_issued"
    API_TOKEN_REVOKED = "api_token_revoked"
    HOLDING_GRANTED = "holding_granted"
    DELEGATION_GRANTED = "delegation_granted"
    CASE_SUBMITTED = "case_submitted"
    CASE_STATE_CHANGED = "case_state_changed"
    APPROVAL_GIVEN = "approval_given"
    APPROVAL_DENIED = "approval_denied"
    CONDITION_MET = "condition_met"
    CASE_RESCREENED = "case_rescreened"
    CASE_RESCREEN_FAILED = "case_rescreen_failed"
    BUNDLE_PROPOSED = "bundle_proposed"
    BUNDLE_ACTIVATED = "bundle_activated"
    STOCK_MOVED = "stock_moved"


def event_body(
    *, at: str, actor: str, type: EventType, case_id: str | None, payload: dict[str, Any]
) -> str:
    """The canonical text of one event: what is hashed, stored and exported."""
    event = {"at": at, "actor": actor, "type": type.value, "case_id": case_id, "payload": payload}
    return canonical_json(event).decode("utf-8")


def link_message(seq: int, case_id: str | None, prev_hash: str, body: str) -> bytes:
    """The exact bytes a link's hash is taken over (the store builds the same bytes in SQL)."""
    return _SEP.join((str(seq), case_id or "", prev_hash, body)).encode("utf-8")


def link_hash(seq: int, case_id: str | None, prev_hash: str, body: str) -> str:
    return "sha256:" + hashlib.sha256(link_message(seq, case_id, prev_hash, body)).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The verdict on a chain: whole, or the first sequence number that is wrong and why."""

    events: int
    first_bad: int | None = None
    problem: str = ""
    head: str = GENESIS

    @property
    def ok(self) -> bool:
        return self.first_bad is None


Link = tuple[int, str | None, str, str, str]
"""``(seq, case_id, prev_hash, body, hash)``: one event as stored and exported."""

Message = tuple[int, str, str, bytes]
"""``(seq, prev_hash, hash, link_message)``: what checking one link needs."""


@dataclass(frozen=True, slots=True)
class Segment:
    """The verdict on a run of consecutive events, to be joined to its neighbours by ``stitch``.

    ``start_prev`` is the ``prev_hash`` of its first event: the segment is only
    whole if that equals the head of the segment before it.
    """

    first_seq: int
    last_seq: int | None
    start_prev: str | None
    events: int
    head: str | None
    first_bad: int | None = None
    problem: str = ""


class ChainVerifier:
    """Checks the events with sequence numbers ``first_seq``..``last_seq``, fed in batches.

    ``prev`` is the hash the first event must link to; ``None`` takes it on
    trust, for a segment checked apart from the events before it (``stitch``
    then checks the joint). Checking stops at the first bad event.
    """

    def __init__(
        self, first_seq: int = 1, last_seq: int | None = None, prev: str | None = GENESIS
    ) -> None:
        self._first, self._last = first_seq, last_seq
        self._expected, self._prev, self._count = first_seq, prev, 0
        self._start_prev = prev
        self._bad: tuple[int, str] | None = None

    def feed(self, messages: Iterable[Message]) -> bool:
        """Check the next events in order; False once the segment is found broken."""
        if self._bad is not None:
            return False
        expected, prev, count = self._expected, self._prev, self._count
        sha256 = hashlib.sha256
        try:
            for seq, prev_hash, stored, message in messages:
                if seq != expected:
                    how = (
                        "missing or out of order" if seq > expected else "repeated or out of order"
                    )
                    self._bad = (expected, f"event {expected} is {how} (found {seq})")
                    return False
                if prev is None:
                    self._start_prev = prev_hash
                elif prev_hash != prev:
                    self._bad = (seq, "does not link to the event before it")
                    return False
                if "sha256:" + sha256(message).hexdigest() != stored:
                    self._bad = (seq, "its content does not match its hash")
                    return False
                prev, expected, count = stored, expected + 1, count + 1
            return True
        finally:
            self._expected, self._prev, self._count = expected, prev, count

    def segment(self) -> Segment:
        bad = self._bad
        if bad is None and self._last is not None and self._expected <= self._last:
            bad = (self._expected, f"event {self._expected} is missing or out of order")
        return Segment(
            first_seq=self._first,
            last_seq=self._last,
            start_prev=self._start_prev,
            events=self._count,
            head=self._prev,
            first_bad=None if bad is None else bad[0],
            problem="" if bad is None else bad[1],
        )


def stitch(segments: Iterable[Segment]) -> ChainReport:
    """One report for consecutive segments: the first bad event of the first broken one."""
    head, count = GENESIS, 0
    for segment in segments:
        if segment.start_prev is not None and segment.start_prev != head:
            return ChainReport(
                count, segment.first_seq, "does not link to the event before it", head
            )
        if segment.first_bad is not None:
            at = segment.head if segment.events else head
            return ChainReport(
                count + segment.events, segment.first_bad, segment.problem, at or head
            )
        count += segment.events
        head = segment.head or head
    return ChainReport(count, head=head)


def verify_chain(links: Iterable[Link]) -> ChainReport:
    """Check ``(seq, case_id, prev_hash, body, hash)`` rows in the order given.

    Sequence numbers must run 1, 2, 3, … with no gap; each ``prev_hash`` must
    be the previous event's hash; each hash must match its event.
    """
    verifier = ChainVerifier()
    verifier.feed(
        (seq, prev_hash, stored, link_message(seq, case_id, prev_hash, body))
        for seq, case_id, prev_hash, body, stored in links
    )
    return stitch([verifier.segment()])
