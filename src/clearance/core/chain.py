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
    "EventType",
    "event_body",
    "link_hash",
    "verify_chain",
]

GENESIS = "sha256:" + "0" * 64
"""The ``prev_hash`` of the first event."""

_SEP = "\x1f"


class EventType(StrEnum):
    """Everything that is ever recorded. One writer (``store.ledger.append``) writes them."""

    USER_ADDED = "user_added"
    HOLDING_GRANTED = "holding_granted"
    DELEGATION_GRANTED = "delegation_granted"
    CASE_SUBMITTED = "case_submitted"
    CASE_STATE_CHANGED = "case_state_changed"
    APPROVAL_GIVEN = "approval_given"
    APPROVAL_DENIED = "approval_denied"
    CONDITION_MET = "condition_met"
    CASE_RESCREENED = "case_rescreened"
    BUNDLE_ACTIVATED = "bundle_activated"


def event_body(
    *, at: str, actor: str, type: EventType, case_id: str | None, payload: dict[str, Any]
) -> str:
    """The canonical text of one event: what is hashed, stored and exported."""
    event = {"at": at, "actor": actor, "type": type.value, "case_id": case_id, "payload": payload}
    return canonical_json(event).decode("utf-8")


def link_hash(seq: int, case_id: str | None, prev_hash: str, body: str) -> str:
    text = _SEP.join((str(seq), case_id or "", prev_hash, body))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


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


def verify_chain(links: Iterable[tuple[int, str | None, str, str, str]]) -> ChainReport:
    """Check ``(seq, case_id, prev_hash, body, hash)`` rows in the order given.

    Sequence numbers must run 1, 2, 3, … with no gap; each ``prev_hash`` must
    be the previous event's hash; each hash must match its event.
    """
    expected_seq, prev, count = 1, GENESIS, 0
    for seq, case_id, prev_hash, body, stored in links:
        if seq != expected_seq:
            missing = (
                "missing or out of order" if seq > expected_seq else "repeated or out of order"
            )
            return ChainReport(
                count, expected_seq, f"event {expected_seq} is {missing} (found {seq})", prev
            )
        if prev_hash != prev:
            return ChainReport(count, seq, "does not link to the event before it", prev)
        if link_hash(seq, case_id, prev_hash, body) != stored:
            return ChainReport(count, seq, "its content does not match its hash", prev)
        prev, expected_seq, count = stored, expected_seq + 1, count + 1
    return ChainReport(count, head=prev)
