"""What each ledger event carries, typed: one frozen payload class per ``EventType``. Pure code.

A payload is written as the dict ``to_payload`` gives (hashed, sealed and
stored in the event's body, ``core.chain.event_body``) and read back from a
stored body by ``read_payload``. The dict is the one clearance has always
written for the event, key for key and type for type, so the canonical
bodies, hashes, seals and signatures of every ledger written before these
classes existed are unchanged. A key added to a type after events of it were
written is ``ABSENT`` in those events and is left out of their dict again.

Whatever is signed or varies in shape by itself (a decision, a request, a
signed statement) is kept as the JSON object that was stored, the same dict:
it is checked against its digest or signature as it stands.

The module runs past 400 lines because it is the ledger's one schema: every
event type's payload, a few lines each, is read here beside the others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any, ClassVar, Final, Self

from clearance.core.chain import EventType
from clearance.core.stockpile import MovementKind

__all__ = [
    "ABSENT",
    "PAYLOADS",
    "Absent",
    "ApiTokenIssued",
    "ApiTokenRevoked",
    "ApprovalDenied",
    "ApprovalGiven",
    "BundleActivated",
    "BundleProposed",
    "CaseExecuted",
    "CaseRescreenFailed",
    "CaseRescreened",
    "CaseStateChanged",
    "CaseSubmitted",
    "CaseSuspended",
    "ConditionMet",
    "DelegationGranted",
    "EscalationReached",
    "Event",
    "GoldenTally",
    "HoldingGranted",
    "Payload",
    "PayloadError",
    "QuestionAnswered",
    "QuestionAsked",
    "StockMove",
    "StockMoved",
    "SubscriptionAdded",
    "SubscriptionEnded",
    "SystemKeyAdded",
    "UserAccessChanged",
    "UserAdded",
    "WaitingPeriodWaived",
    "read_event",
    "read_payload",
]


class Absent(Enum):
    """A key that events written before it was added do not carry (not the same as null)."""

    ABSENT = "absent"

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = Absent.ABSENT


class PayloadError(ValueError):
    """A stored payload that is not what its event type carries (only a body changed outside
    clearance is: ``audit verify`` names it)."""


@dataclass(frozen=True, slots=True)
class _Codec:
    """How one value is written into a payload dict and read back from it, checked."""

    write: Callable[[Any], Any]
    read: Callable[[Any], Any]


def _checked(kind: type | tuple[type, ...]) -> Callable[[Any], Any]:
    def read(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, kind):  # JSON's true is no number
            raise PayloadError(f"{value!r} is not a {getattr(kind, '__name__', kind)}")
        return value

    return read


def _same(value: Any) -> Any:
    return value


TEXT = _Codec(_same, _checked(str))
WHOLE = _Codec(_same, _checked(int))
DAY = _Codec(lambda d: d.isoformat(), lambda v: dt.date.fromisoformat(_checked(str)(v)))
TIME = _Codec(lambda t: t.isoformat(), lambda v: dt.datetime.fromisoformat(_checked(str)(v)))
RECORD = _Codec(_same, _checked(dict))
"""A JSON object kept as it was stored (a decision, a request, a signed statement)."""


def _texts_read(value: Any) -> tuple[str, ...]:
    return tuple(TEXT.read(v) for v in _checked(list)(value))


TEXTS = _Codec(list, _texts_read)


def _maybe(codec: _Codec) -> _Codec:
    """The codec, or null."""
    return _Codec(
        lambda v: None if v is None else codec.write(v),
        lambda v: None if v is None else codec.read(v),
    )


def _kind(value: Any) -> MovementKind:
    return MovementKind(TEXT.read(value))


KIND = _Codec(lambda k: k.value, _kind)


def _as(codec: _Codec, key: str | None = None) -> dict[str, Any]:
    """A payload field's metadata: its codec, and its key when not the field's name. A field
    events written before it was added lack defaults to ``ABSENT``."""
    return {"codec": codec, "key": key}


class _Fields:
    """Writing and reading a dataclass of fields described by ``_as`` as the dict stored for it."""

    __slots__ = ()

    def to_payload(self) -> dict[str, Any]:
        """The dict that is hashed and stored: each key its field's, an ``ABSENT`` one left out."""
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is not ABSENT:
                out[f.metadata["key"] or f.name] = f.metadata["codec"].write(value)
        return out

    @classmethod
    def from_payload(cls, data: Any) -> Self:
        """Read a stored dict; ``PayloadError`` for a key missing, unknown or of another type."""
        if not isinstance(data, dict):
            raise PayloadError("the payload is not a JSON object")
        values: dict[str, Any] = {}
        known = set()
        for f in fields(cls):  # type: ignore[arg-type]
            key = f.metadata["key"] or f.name
            known.add(key)
            if key in data:
                try:
                    values[f.name] = f.metadata["codec"].read(data[key])
                except (TypeError, ValueError, AttributeError) as exc:
                    raise PayloadError(f"its {key} is not what it holds: {exc}") from None
            elif f.default is not ABSENT:
                raise PayloadError(f"it lacks its {key}")
        extra = set(data) - known
        if extra:
            raise PayloadError(f"it carries keys its type does not: {', '.join(sorted(extra))}")
        return cls(**values)


def _nested(cls: type[_Fields]) -> _Codec:
    return _Codec(lambda v: v.to_payload(), cls.from_payload)


def _many(codec: _Codec) -> _Codec:
    return _Codec(
        lambda vs: [codec.write(v) for v in vs],
        lambda v: tuple(codec.read(x) for x in _checked(list)(v)),
    )


class Payload(_Fields):
    """What one event carries; ``TYPE`` is the event type it is recorded as."""

    __slots__ = ()
    TYPE: ClassVar[EventType]


# people ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SystemKeyAdded(Payload):
    TYPE = EventType.SYSTEM_KEY_ADDED
    public_key: str = field(metadata=_as(TEXT))


@dataclass(frozen=True, slots=True)
class UserAdded(Payload):
    TYPE = EventType.USER_ADDED
    user: str = field(metadata=_as(TEXT))
    name: str = field(metadata=_as(TEXT))
    party: str = field(metadata=_as(TEXT))
    public_key: str = field(metadata=_as(TEXT))
    roles: tuple[str, ...] | Absent = field(default=ABSENT, metadata=_as(TEXTS))
    clearance: str | Absent = field(default=ABSENT, metadata=_as(TEXT))


@dataclass(frozen=True, slots=True)
class UserAccessChanged(Payload):
    """Either new roles and clearance, or a password set (``password`` is always ``set``)."""

    TYPE = EventType.USER_ACCESS_CHANGED
    user: str = field(metadata=_as(TEXT))
    roles: tuple[str, ...] | Absent = field(default=ABSENT, metadata=_as(TEXTS))
    clearance: str | Absent = field(default=ABSENT, metadata=_as(TEXT))
    password: str | Absent = field(default=ABSENT, metadata=_as(TEXT))
    password_digest: str | Absent = field(default=ABSENT, metadata=_as(TEXT))


@dataclass(frozen=True, slots=True)
class ApiTokenIssued(Payload):
    TYPE = EventType.API_TOKEN_ISSUED
    token: str = field(metadata=_as(TEXT))
    user: str = field(metadata=_as(TEXT))
    name: str = field(metadata=_as(TEXT))
    token_hash: str | Absent = field(default=ABSENT, metadata=_as(TEXT))
    expires_at: dt.datetime | Absent = field(default=ABSENT, metadata=_as(TIME))


@dataclass(frozen=True, slots=True)
class ApiTokenRevoked(Payload):
    TYPE = EventType.API_TOKEN_REVOKED
    token: str = field(metadata=_as(TEXT))
    user: str = field(metadata=_as(TEXT))
    reason: str | Absent = field(default=ABSENT, metadata=_as(TEXT))


@dataclass(frozen=True, slots=True)
class HoldingGranted(Payload):
    """``valid_to`` None: open-ended."""

    TYPE = EventType.HOLDING_GRANTED
    user: str = field(metadata=_as(TEXT))
    authority: str = field(metadata=_as(TEXT))
    valid_from: dt.date = field(metadata=_as(DAY, "from"))
    valid_to: dt.date | None = field(metadata=_as(_maybe(DAY), "to"))


@dataclass(frozen=True, slots=True)
class DelegationGranted(Payload):
    TYPE = EventType.DELEGATION_GRANTED
    authority: str = field(metadata=_as(TEXT))
    holder: str = field(metadata=_as(TEXT))
    delegate: str = field(metadata=_as(TEXT))
    valid_from: dt.date = field(metadata=_as(DAY, "from"))
    valid_to: dt.date = field(metadata=_as(DAY, "to"))


# cases ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseSubmitted(Payload):
    TYPE = EventType.CASE_SUBMITTED
    request: dict[str, Any] = field(metadata=_as(RECORD))
    request_digest: str = field(metadata=_as(TEXT))
    decision: dict[str, Any] = field(metadata=_as(RECORD))
    classification: str | Absent = field(default=ABSENT, metadata=_as(TEXT))
    number: int | Absent = field(default=ABSENT, metadata=_as(WHOLE))
    decision_digest: str | Absent = field(default=ABSENT, metadata=_as(TEXT))
    sla_days: int | Absent = field(default=ABSENT, metadata=_as(WHOLE))
    idempotency_key: str | Absent | None = field(default=ABSENT, metadata=_as(_maybe(TEXT)))


@dataclass(frozen=True, slots=True)
class CaseStateChanged(Payload):
    TYPE = EventType.CASE_STATE_CHANGED
    from_state: str = field(metadata=_as(TEXT, "from"))
    to_state: str = field(metadata=_as(TEXT, "to"))
    why: str = field(metadata=_as(TEXT))
    due_at: dt.datetime | Absent = field(default=ABSENT, metadata=_as(TIME))
    """Into review: when the case is due, by its offices' clocks (core.working_days)."""
    expires_at: dt.datetime | Absent = field(default=ABSENT, metadata=_as(TIME))
    """Into approval: when the approval lapses unless executed (service.lifetimes)."""


@dataclass(frozen=True, slots=True)
class ApprovalGiven(Payload):
    """A signed answer: ``statement`` is kept as signed (docs/formats.md, signed statements)."""

    TYPE = EventType.APPROVAL_GIVEN
    statement: dict[str, Any] = field(metadata=_as(RECORD))
    signature: str = field(metadata=_as(TEXT))
    public_key: str = field(metadata=_as(TEXT))


@dataclass(frozen=True, slots=True)
class ApprovalDenied(Payload):
    """A signed answer, as ``ApprovalGiven``."""

    TYPE = EventType.APPROVAL_DENIED
    statement: dict[str, Any] = field(metadata=_as(RECORD))
    signature: str = field(metadata=_as(TEXT))
    public_key: str = field(metadata=_as(TEXT))


@dataclass(frozen=True, slots=True)
class ConditionMet(Payload):
    TYPE = EventType.CONDITION_MET
    condition: str = field(metadata=_as(TEXT))
    evidence: str = field(metadata=_as(TEXT))


@dataclass(frozen=True, slots=True)
class CaseRescreened(Payload):
    TYPE = EventType.CASE_RESCREENED
    was: str = field(metadata=_as(TEXT))
    would_be: str = field(metadata=_as(TEXT))
    as_of: dt.date = field(metadata=_as(DAY))
    decision: dict[str, Any] = field(metadata=_as(RECORD))
    bundles: dict[str, str | None] | Absent = field(default=ABSENT, metadata=_as(RECORD))


@dataclass(frozen=True, slots=True)
class CaseRescreenFailed(Payload):
    TYPE = EventType.CASE_RESCREEN_FAILED
    problem: str = field(metadata=_as(TEXT))


@dataclass(frozen=True, slots=True)
class CaseExecuted(Payload):
    """One draw on an approved case: ``quantity`` used or delivered, ``drawn`` in all so far
    (this draw included) of the ``approved`` quantity."""

    TYPE = EventType.CASE_EXECUTED
    quantity: int = field(metadata=_as(WHOLE))
    drawn: int = field(metadata=_as(WHOLE))
    approved: int = field(metadata=_as(WHOLE))


@dataclass(frozen=True, slots=True)
class CaseSuspended(Payload):
    """An approved case judged again (``cause``: ``execution``, on the day of a draw, or
    ``activation``, when a bundle took effect) as of ``as_of``, under the policy in force
    then, which would not permit it: ``decision`` is that judgement (it becomes the case's
    decision), ``offices`` those it names that have not approved (none: prohibited, no
    office can approve it). The draw, if any, is not made."""

    TYPE = EventType.CASE_SUSPENDED
    cause: str = field(metadata=_as(TEXT))
    as_of: dt.date = field(metadata=_as(DAY))
    offices: tuple[str, ...] = field(metadata=_as(TEXTS))
    decision: dict[str, Any] = field(metadata=_as(RECORD))
    decision_digest: str = field(metadata=_as(TEXT))
    quantity: int | None = field(metadata=_as(_maybe(WHOLE)))
    """The draw refused (None: suspended when a bundle took effect)."""


@dataclass(frozen=True, slots=True)
class QuestionAsked(Payload):
    """A reviewer or approver asks the requester for information; ``office`` is the gate
    they asked for (None: a reviewer). The case waits, its clocks stopped."""

    TYPE = EventType.QUESTION_ASKED
    question: str = field(metadata=_as(TEXT))
    office: str | None = field(metadata=_as(_maybe(TEXT)))


@dataclass(frozen=True, slots=True)
class QuestionAnswered(Payload):
    TYPE = EventType.QUESTION_ANSWERED
    answer: str = field(metadata=_as(TEXT))


@dataclass(frozen=True, slots=True)
class EscalationReached(Payload):
    """Step ``step`` of ``office``'s ladder on a case: ``after`` days (``count``) passed
    without an answer, and ``tell`` (office, oversight or an office's id) is told."""

    TYPE = EventType.ESCALATION_REACHED
    office: str = field(metadata=_as(TEXT))
    step: int = field(metadata=_as(WHOLE))
    after: int = field(metadata=_as(WHOLE))
    count: str = field(metadata=_as(TEXT))
    tell: str = field(metadata=_as(TEXT))


@dataclass(frozen=True, slots=True)
class WaitingPeriodWaived(Payload):
    """A legislature's waiting period waived by the office the policy names: a signed
    statement, as ``ApprovalGiven`` (docs/formats.md, signed statements)."""

    TYPE = EventType.WAITING_PERIOD_WAIVED
    statement: dict[str, Any] = field(metadata=_as(RECORD))
    signature: str = field(metadata=_as(TEXT))
    public_key: str = field(metadata=_as(TEXT))


# policy and stock -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GoldenTally(_Fields):
    """How many golden cases a proposed bundle passed and failed."""

    passed: int = field(metadata=_as(WHOLE))
    failed: int = field(metadata=_as(WHOLE))


@dataclass(frozen=True, slots=True)
class BundleProposed(Payload):
    TYPE = EventType.BUNDLE_PROPOSED
    proposal: str = field(metadata=_as(TEXT))
    number: int = field(metadata=_as(WHOLE))
    holder: str = field(metadata=_as(TEXT))
    effective_from: dt.date = field(metadata=_as(DAY))
    revision: str = field(metadata=_as(TEXT))
    title: str = field(metadata=_as(TEXT))
    tests: GoldenTally = field(metadata=_as(_nested(GoldenTally)))
    files_digest: str | Absent = field(default=ABSENT, metadata=_as(TEXT))
    tests_digest: str | Absent = field(default=ABSENT, metadata=_as(TEXT))


@dataclass(frozen=True, slots=True)
class BundleActivated(Payload):
    """A bundle in force: a pack's by its date (the bundle's facts alone), or an activated
    proposal's, which also carries the proposal, the office and the signed activation."""

    TYPE = EventType.BUNDLE_ACTIVATED
    holder: str = field(metadata=_as(TEXT))
    bundle: str = field(metadata=_as(TEXT))
    revision: str = field(metadata=_as(TEXT))
    effective_from: dt.date = field(metadata=_as(DAY))
    proposal: str | Absent = field(default=ABSENT, metadata=_as(TEXT))
    authority: str | Absent = field(default=ABSENT, metadata=_as(TEXT))
    statement: dict[str, Any] | Absent = field(default=ABSENT, metadata=_as(RECORD))
    signature: str | Absent = field(default=ABSENT, metadata=_as(TEXT))
    public_key: str | Absent = field(default=ABSENT, metadata=_as(TEXT))


@dataclass(frozen=True, slots=True)
class StockMove(_Fields):
    """One movement of tracked stock, counted from ``day``."""

    holder: str = field(metadata=_as(TEXT))
    system: str = field(metadata=_as(TEXT))
    kind: MovementKind = field(metadata=_as(KIND))
    quantity: int = field(metadata=_as(WHOLE))
    day: dt.date = field(metadata=_as(DAY))


@dataclass(frozen=True, slots=True)
class StockMoved(Payload):
    TYPE = EventType.STOCK_MOVED
    movements: tuple[StockMove, ...] = field(metadata=_as(_many(_nested(StockMove))))


# notifications ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubscriptionAdded(Payload):
    """A user (``user``), or an office's shared mailbox or receiver (``office``, cleared to
    ``clearance``), is told of ``kinds`` of event by ``channel`` (email, webhook) at
    ``address``. Recorded, so that no one can stop notifications unseen."""

    TYPE = EventType.SUBSCRIPTION_ADDED
    subscription: str = field(metadata=_as(TEXT))
    user: str | None = field(metadata=_as(_maybe(TEXT)))
    office: str | None = field(metadata=_as(_maybe(TEXT)))
    clearance: str | None = field(metadata=_as(_maybe(TEXT)))
    kinds: tuple[str, ...] = field(metadata=_as(TEXTS))
    channel: str = field(metadata=_as(TEXT))
    address: str = field(metadata=_as(TEXT))


@dataclass(frozen=True, slots=True)
class SubscriptionEnded(Payload):
    """A subscription stops: nothing more is queued for it, and nothing queued is sent."""

    TYPE = EventType.SUBSCRIPTION_ENDED
    subscription: str = field(metadata=_as(TEXT))
    user: str | None = field(metadata=_as(_maybe(TEXT)))
    office: str | None = field(metadata=_as(_maybe(TEXT)))


PAYLOADS: Final[Mapping[EventType, type[Payload]]] = {
    cls.TYPE: cls
    for cls in (
        SystemKeyAdded,
        UserAdded,
        UserAccessChanged,
        ApiTokenIssued,
        ApiTokenRevoked,
        HoldingGranted,
        DelegationGranted,
        CaseSubmitted,
        CaseStateChanged,
        ApprovalGiven,
        ApprovalDenied,
        ConditionMet,
        CaseRescreened,
        CaseRescreenFailed,
        BundleProposed,
        BundleActivated,
        StockMoved,
        QuestionAsked,
        QuestionAnswered,
        EscalationReached,
        SubscriptionAdded,
        SubscriptionEnded,
        WaitingPeriodWaived,
        CaseExecuted,
        CaseSuspended,
    )
}
"""The payload class of each event type."""


def read_payload(type: EventType | str, data: Any) -> Payload:
    """A stored payload, typed by its event type; ``PayloadError`` if it is not one."""
    try:
        cls = PAYLOADS[EventType(type)]
    except ValueError:
        raise PayloadError(f"'{type}' is not an event type") from None
    return cls.from_payload(data)


@dataclass(frozen=True, slots=True)
class Event:
    """One event's body, read: who recorded what, when, for which case."""

    at: dt.datetime
    actor: str
    case_id: str | None
    payload: Payload

    @property
    def type(self) -> EventType:
        return self.payload.TYPE


def read_event(body: Any) -> Event:
    """An event body (the parsed JSON of ``core.chain.event_body``, or the same keys as a case
    file writes them beside it), typed; ``PayloadError`` if it is not one."""
    if not isinstance(body, Mapping):
        raise PayloadError("the body is not a JSON object")
    try:
        at = TIME.read(body["at"])
        actor = TEXT.read(body["actor"])
        case_id = _maybe(TEXT).read(body.get("case_id"))
        payload = body["payload"]
        kind = body["type"]
    except (KeyError, TypeError, ValueError) as exc:
        raise PayloadError(f"its at, actor, type or payload is missing or garbled: {exc}") from None
    return Event(at, actor, case_id, read_payload(kind, payload))
