"""The ledger's hash chain: event encoding, link hashes and verification. Pure code.

Every event is stored as a *body*, the canonical JSON (RFC 8785) of
``{at, actor, type, case_id, payload}``, with its sequence number, the hash
of the event before it (``prev_hash``) and its own hash. Two link schemes:

- scheme 1, events written before RFC 8785 and seals were adopted::

      hash = SHA-256( "<seq>␟<case_id>␟<prev_hash>␟<body>" )

- scheme 2, every event written since::

      body_hash = SHA-256( body )
      hash      = SHA-256( "clearance-ledger/2␟<seq>␟<prev_hash>␟<body_hash>" )

  Hashing the body's digest rather than the body lets an export leave out the
  body of an event its reader may not see and still be checked link by link
  (docs/verifying.md).

In both, the ``type`` and ``case_id`` columns are copies of the body's, kept
for filtering, and must equal them: a verifier checks that too, so no column
of a row escapes the hash. Editing, deleting, inserting or reordering any
event, or changing any of its columns, breaks the chain at that event. What a
hash chain cannot show by itself (a cut-off tail, a forged append, a whole
rewrite) is caught by seals and checkpoints (``core.anchors``). The same
functions verify the database and an exported file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

from clearance.core.digest import canonical_json, canonical_json_with

__all__ = [
    "GENESIS",
    "ChainReport",
    "ChainVerifier",
    "EventType",
    "Link",
    "Row",
    "Scheme",
    "Segment",
    "body_hash",
    "digest_link_hash",
    "event_body",
    "link_hash",
    "stitch",
    "verify_links",
]

GENESIS = "sha256:" + "0" * 64
"""The ``prev_hash`` of the first event."""

_SEP = "\x1f"
_V2_TAG = "clearance-ledger/2"


class Scheme(IntEnum):
    """How an event's link hash is taken (module docstring)."""

    V1 = 1
    V2 = 2


CURRENT = Scheme.V2
"""The scheme every new event is written with."""


class EventType(StrEnum):
    """Everything that is ever recorded. One writer (``store.ledger.append``) writes them."""

    SYSTEM_KEY_ADDED = "system_key_added"
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
    QUESTION_ASKED = "question_asked"
    QUESTION_ANSWERED = "question_answered"
    ESCALATION_REACHED = "escalation_reached"
    SUBSCRIPTION_ADDED = "subscription_added"
    SUBSCRIPTION_ENDED = "subscription_ended"
    WAITING_PERIOD_WAIVED = "waiting_period_waived"
    CASE_EXECUTED = "case_executed"
    CASE_SUSPENDED = "case_suspended"


def event_body(
    *,
    at: str,
    actor: str,
    type: EventType,
    case_id: str | None,
    payload: dict[str, Any],
    known: Mapping[str, str] | None = None,
) -> str:
    """The canonical text of one event: what is hashed, stored and exported.

    ``known``: the canonical text of payload members already encoded (a case's decision,
    encoded once for its digest), spliced in rather than encoded again."""
    event = {"at": at, "actor": actor, "type": type.value, "case_id": case_id, "payload": payload}
    if known:
        return canonical_json_with(event, "payload", known)
    return canonical_json(event).decode()


def body_hash(body: bytes) -> str:
    """A scheme-2 event's body digest: what a redacted export carries in place of the body."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _utf8(text: str) -> bytes:
    """Text as UTF-8. A lone surrogate, which no text clearance writes holds, is kept as the
    bytes no UTF-8 text has: what it is in then matches no hash, and checking it cannot fail."""
    return text.encode(errors="surrogatepass")


def _v1_message(seq: int, case_id: str | None, prev_hash: str, body: bytes) -> bytes:
    return _utf8(_SEP.join((str(seq), case_id or "", prev_hash, ""))) + body


def _v2_message(seq: int, prev_hash: str, digest: str) -> bytes:
    # ASCII, as every part is: a part that is not (a forged hash) is kept, to match nothing.
    return _utf8(_SEP.join((_V2_TAG, str(seq), prev_hash, digest)))


def digest_link_hash(seq: int, prev_hash: str, digest: str) -> str:
    """The scheme-2 hash of an event known by its body's digest (a redacted event)."""
    return "sha256:" + hashlib.sha256(_v2_message(seq, prev_hash, digest)).hexdigest()


def link_hash(
    seq: int, case_id: str | None, prev_hash: str, body: str, scheme: Scheme = CURRENT
) -> str:
    """The hash of one event, by its scheme."""
    data = _utf8(body)
    if scheme is Scheme.V1:
        message = _v1_message(seq, case_id, prev_hash, data)
    else:
        message = _v2_message(seq, prev_hash, body_hash(data))
    return "sha256:" + hashlib.sha256(message).hexdigest()


def _columns_match(body: bytes, type_: str, case_id: str | None) -> bool:
    """Whether a row's ``type`` and ``case_id`` columns are those of its canonical body.

    A canonical body's keys come in the order actor, at, case_id, payload,
    type, and a quotation mark inside a JSON string is always escaped, so the
    first unescaped ``,"case_id":`` is the top-level key and the body ends
    with its ``type``. Comparing bytes keeps verification from parsing every
    body; the state check (``core.facts``) parses them anyway.
    """
    if not isinstance(type_, str) or not (case_id is None or isinstance(case_id, str)):
        return False  # SQLite keeps a column's value in whatever type it was given
    if not body.endswith(b',"type":"' + type_.encode(errors="replace") + b'"}'):
        return False
    at = body.find(b',"case_id":')
    if at < 0:  # pragma: no mutate
        return False
    value = b"null" if case_id is None else b'"' + case_id.encode(errors="replace") + b'"'
    return body.startswith(value + b',"payload":', at + 11)


@dataclass(frozen=True, slots=True)
class Link:
    """One event as stored and exported.

    ``body`` is None in an export redacted for a reader who may not see the
    event: ``body_hash`` then stands for it (scheme 2), and ``type`` and
    ``case_id`` are left out too. ``seal`` is the system's signature over the
    event's sequence number and hash (``core.anchors``); scheme-1 events have none.
    """

    seq: int
    type: str | None
    case_id: str | None
    prev_hash: str
    hash: str
    scheme: int = CURRENT
    body: str | None = None
    seal: str | None = None
    body_hash: str | None = None

    @property
    def redacted(self) -> bool:
        return self.body is None

    def row(self) -> Row:
        body = None if self.body is None else _utf8(self.body)
        return (
            self.seq,
            self.scheme,
            self.type,
            self.case_id,
            self.prev_hash,
            self.hash,
            body,
            self.body_hash,
        )


Row = tuple[int, int, str | None, str | None, str, str, bytes | None, str | None]
"""``(seq, scheme, type, case_id, prev_hash, hash, body, body_hash)``: what checking one link
needs, as the store reads it (``body`` as bytes; ``body_hash`` only for a redacted event)."""


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The verdict on a chain: whole, or the first sequence number that is wrong and why.

    ``seen`` holds the hash found at each watched sequence number (those of
    the checkpoints to compare); ``unverifiable`` counts redacted scheme-1
    events, whose hash can only be taken as linked, not recomputed.
    """

    events: int
    first_bad: int | None = None
    problem: str = ""
    head: str = GENESIS
    seen: Mapping[int, str] = field(default_factory=dict)
    unverifiable: int = 0

    @property
    def ok(self) -> bool:
        return self.first_bad is None


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
    seen: Mapping[int, str] = field(default_factory=dict)
    unverifiable: int = 0


class ChainVerifier:
    """Checks the events with sequence numbers ``first_seq``..``last_seq``, fed in batches.

    ``prev`` is the hash the first event must link to; ``None`` takes it on
    trust, for a segment checked apart from the events before it (``stitch``
    then checks the joint). Checking stops at the first bad event. The hash
    at each sequence number in ``watch`` is kept for the checkpoints.
    ``whole``: every event must carry its body (the database, an export that
    says it is whole); otherwise an event without one is taken as redacted
    for its reader.
    """

    def __init__(
        self,
        first_seq: int = 1,
        last_seq: int | None = None,
        prev: str | None = GENESIS,
        watch: Collection[int] = (),
        *,
        whole: bool = False,
    ) -> None:
        self._whole = whole
        self._first, self._last = first_seq, last_seq
        self._expected, self._prev, self._count = first_seq, prev, 0
        self._start_prev = prev
        self._bad: tuple[int, str] | None = None
        self._watch = frozenset(watch)
        self._seen: dict[int, str] = {}
        self._unverifiable = 0

    def _fail(self, seq: int, problem: str) -> bool:
        self._bad = (seq, problem)
        return False

    def feed(self, rows: Iterable[Row]) -> bool:
        """Check the next events in order; False once the segment is found broken."""
        if self._bad is not None:
            return False
        expected, prev, count = self._expected, self._prev, self._count
        sha256, watch, seen = hashlib.sha256, self._watch, self._seen
        try:
            for seq, scheme, type_, case_id, prev_hash, stored, body, digest in rows:
                if seq != expected:
                    how = (
                        "missing or out of order"
                        if seq > expected  # pragma: no mutate
                        else "repeated or out of order"
                    )
                    return self._fail(expected, f"event {expected} is {how} (found {seq})")
                if prev is None:
                    self._start_prev = prev_hash
                elif prev_hash != prev:
                    return self._fail(seq, "does not link to the event before it")
                if body is None and self._whole:
                    return self._fail(seq, "it has no body (only a redacted export leaves one out)")
                if body is not None and (type_ is None or not _columns_match(body, type_, case_id)):
                    return self._fail(seq, "its type or case column does not match its body")
                if scheme == Scheme.V2:
                    if body is not None:
                        digest = "sha256:" + sha256(body).hexdigest()
                    if digest is None:
                        return self._fail(seq, "it has neither a body nor a body hash")
                    message = _v2_message(seq, prev_hash, digest)
                elif scheme == Scheme.V1:
                    if body is None:
                        message = None  # redacted: a scheme-1 hash needs the body itself
                        self._unverifiable += 1
                    else:
                        message = _v1_message(seq, case_id, prev_hash, body)
                else:
                    return self._fail(seq, f"its link scheme {scheme} is not known")
                if message is not None and "sha256:" + sha256(message).hexdigest() != stored:
                    return self._fail(seq, "its content does not match its hash")
                if seq in watch:
                    seen[seq] = stored
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
            seen=dict(self._seen),
            unverifiable=self._unverifiable,
        )


def stitch(segments: Iterable[Segment]) -> ChainReport:
    """One report for consecutive segments: the first bad event of the first broken one."""
    head, count, unverifiable = GENESIS, 0, 0
    seen: dict[int, str] = {}
    for segment in segments:
        seen.update(segment.seen)
        unverifiable += segment.unverifiable
        if segment.start_prev is not None and segment.start_prev != head:
            return ChainReport(
                count,
                segment.first_seq,
                "does not link to the event before it",
                head,
                seen,
                unverifiable,
            )
        if segment.first_bad is not None:
            at = segment.head if segment.events else head  # pragma: no mutate
            return ChainReport(
                count + segment.events,
                segment.first_bad,
                segment.problem,
                at or head,
                seen,
                unverifiable,
            )
        count += segment.events
        head = segment.head or head
    return ChainReport(count, head=head, seen=seen, unverifiable=unverifiable)


def verify_links(links: Iterable[Link], watch: Collection[int] = ()) -> ChainReport:
    """Check links in the order given: sequence numbers 1, 2, 3, … with no gap, each
    ``prev_hash`` the previous event's hash, each hash its event's, each column its body's."""
    verifier = ChainVerifier(watch=watch)
    verifier.feed(link.row() for link in links)
    return stitch([verifier.segment()])
